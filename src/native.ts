/**
 * Loads the generated napi-rs loader (`index.js` / `index.d.ts` at the package root, which picks
 * the prebuilt `synapse-g-<platform>` package or a locally built `.node` file). Nothing else in
 * the package touches the addon directly: use the typed wrappers in `kernels.ts`.
 */
import type * as Native from '../index';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const native: typeof Native = require('../index.js');

export default native;
export type { CsrGraph } from '../index';
