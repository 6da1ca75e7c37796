/**
 * Jest on Node 20 cannot `require()` an ES module, which Node itself can (require(esm)).
 * @nestjs/throttler is CommonJS and requires @nestjs/common and @nestjs/core, which are ESM.
 * This transform points those requires at the very instances the app imported (published
 * by esm-bridge.setup.js), so the tests run the real throttler against the real Nest,
 * one copy of each, exactly as in production.
 */
const BRIDGED = ['@nestjs/common', '@nestjs/core'];

module.exports = {
  process(source) {
    let code = source;
    for (const name of BRIDGED) {
      code = code
        .split(`require("${name}")`)
        .join(`globalThis.__esmBridge[${JSON.stringify(name)}]`);
    }
    return { code };
  },
};
