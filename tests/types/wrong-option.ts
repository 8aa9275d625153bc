// A typed program with one mistake: `maxTrial` for `maxTrials`. `tsc -p tests/types/tsconfig.wrong.json`
// must fail on it (tests/types/types.test.mjs checks the error names `maxTrial`).
import init, * as tl from "tunelab";

await init();
const tuner = new tl.RandomSearch({
  hypermodel: (hp) => tl.sequential({ layers: [tl.layers.dense({ units: hp.Int("units", 4, 16), inputShape: [2] })] }),
  objective: "val_accuracy",
  maxTrial: 3,
});
await tuner.search([[0, 0]], [[0]], { epochs: 1 });
