// `npm start`: brings dist/ up to date with the sources, then runs the launcher
// (dist/launcher.js, see src/launcher.ts) until it stops. Plain JavaScript, so that it runs
// before anything is compiled.
//
// - Each .ts file under src/ (specs aside) and migrations/ whose output is missing, or that
//   changed since the last build here began, is transpiled on its own by SWC, with the emit
//   settings of tsconfig.json (decorator metadata included, which Nest's injection reads);
//   .lua files are copied; outputs whose source is gone are removed. Nothing is compiled
//   when nothing changed, and everything when a tsconfig or this file did. Types are not
//   checked here (tsconfig.json's isolatedModules makes per-file output the same as tsc's):
//   `npm run typecheck`, the tests and CI check them, and `npm run build` is the full tsc
//   build that CI and the Docker image use.
// - The launcher runs in a process group of its own and this process passes SIGINT, SIGTERM
//   and SIGHUP on to it: `kill` of npm reaches this process (npm forwards it), and so does a
//   terminal's Ctrl+C, which then never reaches Postgres or redis-server directly: the
//   launcher stops them itself, after the api and worker that use them.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { copyFile, mkdir, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'dist');
/** Where each source tree's outputs go (as tsconfig.build.json and tsconfig.migrations.json). */
const TREES = [
  { source: join(root, 'src'), output: dist },
  { source: join(root, 'migrations'), output: join(dist, 'migrations') },
];
/** A change to any of these compiles everything again. */
const SETTINGS = ['tsconfig.json', 'tsconfig.build.json', 'tsconfig.migrations.json']
  .map((file) => join(root, file))
  .concat(fileURLToPath(import.meta.url));
/** Written after each build here, dated when that build began. */
const STAMP = join(dist, '.start-stamp');
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function say(line) {
  process.stdout.write(`gatehouse: ${line}\n`);
}

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/** Each source file with its output: .ts files (specs aside) compiled, .lua files copied. */
function sourcesAndOutputs() {
  return TREES.flatMap(({ source, output }) =>
    filesUnder(source).flatMap((file) => {
      if (file.endsWith('.lua'))
        return [{ source: join(source, file), output: join(output, file) }];
      if (!file.endsWith('.ts') || file.endsWith('.spec.ts') || file.endsWith('.d.ts')) return [];
      return [{ source: join(source, file), output: join(output, file.replace(/\.ts$/, '.js')) }];
    }),
  );
}

/** The files to build: those changed since the last build began or never built; or all. */
function stale(files) {
  const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
  if (SETTINGS.some((file) => statSync(file).mtimeMs > built)) return files;
  return files.filter(
    ({ source, output }) => !existsSync(output) || statSync(source).mtimeMs > built,
  );
}

/** SWC's options for emitting what tsc would from tsconfig.json's compilerOptions. */
function swcOptions() {
  const { compilerOptions: ts } = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  return {
    swcrc: false,
    sourceMaps: ts.sourceMap === true,
    inlineSourcesContent: false,
    jsc: {
      parser: { syntax: 'typescript', decorators: ts.experimentalDecorators === true },
      target: ts.target.toLowerCase(),
      keepClassNames: true,
      transform: {
        legacyDecorator: ts.experimentalDecorators === true,
        decoratorMetadata: ts.emitDecoratorMetadata === true,
        useDefineForClassFields: ts.useDefineForClassFields !== false,
      },
    },
    module: { type: 'es6' },
  };
}

async function emit(swc, options, { source, output }) {
  await mkdir(dirname(output), { recursive: true });
  if (source.endsWith('.lua')) return copyFile(source, output);
  const { code, map } = await swc.transformFile(source, { ...options, outputPath: output });
  if (map === undefined) return writeFile(output, code);
  await writeFile(`${output}.map`, map);
  await writeFile(output, `${code}\n//# sourceMappingURL=${basename(output)}.map\n`);
}

/** Where the source of a file in dist/ is: dist/migrations/* from migrations/, the rest from src/. */
function sourceOf(output) {
  const tree = TREES.findLast(({ output: dir }) => !relative(dir, output).startsWith('..'));
  const file = relative(tree.output, output);
  const match = /^(.*)\.js(\.map)?$/.exec(file);
  return join(tree.source, match === null ? file : `${match[1]}.ts`);
}

/** Removes compiled files and assets whose source was deleted or renamed since they were built. */
function pruneOrphans() {
  for (const file of filesUnder(dist)) {
    const path = join(dist, file);
    if (/\.(js|js\.map|lua)$/.test(file) && !existsSync(sourceOf(path))) rmSync(path);
  }
}

async function build() {
  const began = new Date();
  const files = stale(sourcesAndOutputs());
  if (files.length > 0) {
    const swc = await import('@swc/core');
    const options = swcOptions();
    try {
      await Promise.all(files.map((file) => emit(swc, options, file)));
    } catch (error) {
      // SWC's message is the file, line and code frame, then what Rust adds (with RUST_BACKTRACE).
      const message = String(error?.message ?? error).replace(/\n+Caused by:[\s\S]*$/, '');
      process.stderr.write(`gatehouse: cannot compile: ${message.trim()}\n`);
      process.exit(1);
    }
  }
  if (existsSync(dist)) pruneOrphans();
  if (files.length === 0) return;
  await writeFile(STAMP, '');
  // Dated when the build began: a source saved while it ran is newer, so the next start builds.
  await utimes(STAMP, began, began);
  const took = ((Date.now() - began.getTime()) / 1000).toFixed(1);
  const count = `${files.length} file${files.length === 1 ? '' : 's'}`;
  say(`compiled ${count} in ${took} s (without type checks: npm run typecheck has them)`);
}

/** Runs a child to its end, passing on the signals that stop `npm start`; resolves its exit. */
function runToEnd(command, args, options = {}) {
  const child = spawn(command, args, { cwd: root, stdio: 'inherit', ...options });
  const forward = (signal) => child.kill(signal);
  for (const signal of SIGNALS) process.on(signal, forward);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      for (const name of SIGNALS) process.off(name, forward);
      resolve({ code, signal });
    });
  });
}

/** Ends this process as the child ended: the same exit code, or the same signal. */
function exitLike({ code, signal }) {
  if (signal !== null) process.kill(process.pid, signal);
  process.exit(code ?? 1);
}

await build();
exitLike(await runToEnd(process.execPath, [join(dist, 'launcher.js')], { detached: true }));
