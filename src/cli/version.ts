/** The package version, read from package.json. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const version: string = (require('../../package.json') as { version: string }).version;
