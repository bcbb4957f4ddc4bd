// Node's `url` module as the DAP library uses it in a browser: the platform's URL.
export const URL = globalThis.URL;
export default { URL };
