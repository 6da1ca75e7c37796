// `npm start`: brings dist/ up to date with the sources, then runs the launcher
// (dist/launcher.js, see src/launcher.ts) until it stops.
//
// - Up to date (no file under src/ or migrations/, and no tsconfig, changed since the last
//   build here): no compiler runs.
// - Otherwise `tsc -b` compiles what changed (incremental: its .tsbuildinfo files are in
//   dist/, so `npm run build`, which deletes dist/, stays a clean build; type-checked: a type
//   error stops here), the .lua assets are copied and outputs whose source is gone removed.
// - The launcher runs in a process group of its own and this process passes SIGINT, SIGTERM
//   and SIGHUP on to it: `kill` of npm reaches this process (npm forwards it), and so does a
//   terminal's Ctrl+C, which then never reaches Postgres or redis-server directly: the
//   launcher stops them itself, after the api and worker that use them.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const PROJECTS = ['tsconfig.build.json', 'tsconfig.migrations.json'];
const INPUTS = ['src', 'migrations', 'tsconfig.json', ...PROJECTS];
/** Written after each build here, dated when that build began. */
const STAMP = join(dist, '.start-stamp');
/** What `npm run build` and tsc -b both leave, without which dist/ is not a build. */
const ENTRY_POINTS = ['launcher.js', 'main.js', 'worker.js'].map((file) => join(dist, file));
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function say(line) {
  process.stdout.write(`gatehouse: ${line}\n`);
}

/** The newest modification time under `path`: files, and directories (an added or removed file). */
function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function isUpToDate() {
  if (!existsSync(STAMP) || !ENTRY_POINTS.every((file) => existsSync(file))) return false;
  const built = statSync(STAMP).mtimeMs;
  return INPUTS.every((input) => newestMtime(join(root, input)) <= built);
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

/** Where the source of a file in dist/ is: dist/migrations/* from migrations/, the rest from src/. */
function sourceOf(output) {
  const path = relative(dist, output);
  const [top, ...rest] = path.split('/');
  const [dir, file] = top === 'migrations' ? ['migrations', rest.join('/')] : ['src', path];
  const match = /^(.*)\.js(\.map)?$/.exec(file);
  return join(root, dir, match === null ? file : `${match[1]}.ts`);
}

/** Removes compiled files and assets whose source was deleted or renamed since they were built. */
function pruneOrphans(dir = dist) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) pruneOrphans(path);
    else if (/\.(js|js\.map|lua)$/.test(entry.name) && !existsSync(sourceOf(path))) rmSync(path);
  }
}

async function build() {
  const began = new Date();
  // An incomplete dist/ (entry points deleted by hand) with a tsbuildinfo would look current.
  if (!ENTRY_POINTS.every((file) => existsSync(file))) {
    for (const info of ['.tsbuildinfo', 'migrations/.tsbuildinfo'])
      rmSync(join(dist, info), { force: true });
  }
  say('compiling what changed since the last build (tsc -b)');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const compiled = await runToEnd(process.execPath, [tsc, '-b', ...PROJECTS]);
  if (compiled.code !== 0) exitLike(compiled);
  const assets = await runToEnd('npm', ['run', '-s', 'assets', '--', 'dist']);
  if (assets.code !== 0) exitLike(assets);
  pruneOrphans();
  writeFileSync(STAMP, '');
  // Dated when the build began: a source saved while it ran is newer, so the next start builds.
  utimesSync(STAMP, began, began);
  say(`compiled in ${((Date.now() - began.getTime()) / 1000).toFixed(1)} s`);
}

if (!isUpToDate()) await build();
exitLike(await runToEnd(process.execPath, [join(dist, 'launcher.js')], { detached: true }));
