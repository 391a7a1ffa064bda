// A script whose first tfjs use is loading USE-lite (no `useTfBackend`, no tensor before it): run
// by use_lite_encoder_test.ts in a fresh process. Prints the embedding's shape and its norm.
import { loadUseLite } from "@likeness/models";

const use = await loadUseLite();
const e = await use.encode(["How old are you?"]);
const v = await e.data();
console.log(JSON.stringify({ shape: e.shape, norm: Math.hypot(...v) }));
use.dispose();
