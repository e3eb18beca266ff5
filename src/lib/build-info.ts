/**
 * @module Version, git commit and build date. `scripts/build.ts` bakes them in with `--define`;
 * when running from source they come from package.json and git at run time.
 */
import pkg from '../../package.json' with { type: 'json' };

declare const LIFELINE_GIT_COMMIT: string | undefined;
declare const LIFELINE_BUILD_DATE: string | undefined;

/** What `lifeline version` prints. */
interface BuildInfo {
  version: string;
  commit: string;
  buildDate: string;
  bunVersion: string;
}

/** Returns the build information of the running program. */
export function buildInfo(): BuildInfo {
  return {
    version: pkg.version,
    commit: typeof LIFELINE_GIT_COMMIT === 'string' ? LIFELINE_GIT_COMMIT : gitCommitAtRunTime(),
    buildDate: typeof LIFELINE_BUILD_DATE === 'string' ? LIFELINE_BUILD_DATE : 'dev',
    bunVersion: Bun.version,
  };
}

function gitCommitAtRunTime(): string {
  try {
    const out = Bun.spawnSync(['git', 'rev-parse', '--short=12', 'HEAD'], {
      cwd: import.meta.dir,
      stderr: 'ignore',
    });
    const text = out.stdout.toString().trim();
    return out.exitCode === 0 && text ? `${text}-dev` : 'unknown';
  } catch {
    return 'unknown';
  }
}
