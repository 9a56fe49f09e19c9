import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

interface PackedFile {
  readonly path: string;
}

/** What `npm pack` would put in the tarball, without building (dist/ is built by `prepare` on install). */
function packedPaths(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_loglevel: 'error', npm_config_update_notifier: 'false' },
  });
  const parsed = JSON.parse(out) as { files: PackedFile[] }[];
  return parsed[0].files.map((f) => f.path).sort();
}

/** Only what users need: the build, the bin shim, the examples, the README (and what npm always adds). */
function isAllowed(path: string): boolean {
  if (['package.json', 'README.md'].includes(path) || /^LICEN[CS]E(\.(md|txt))?$/i.test(path)) return true;
  return /^(dist|bin|examples)\//.test(path);
}

describe('package tarball', () => {
  let paths: string[];

  beforeAll(() => {
    paths = packedPaths();
  });

  it('should list only dist/, bin/, examples/, README.md, package.json and a licence', () => {
    expect(paths.filter((p) => !isAllowed(p))).toEqual([]);
  });

  it('should ship no specs, sources or compiled specs', () => {
    const leaked = paths.filter(
      (p) => /(^|\/)(spec|src|bench|node_modules)\//.test(p) || /\.spec\.[jt]s/.test(p) || (p.startsWith('dist/') && p.endsWith('.ts') && !p.endsWith('.d.ts')),
    );
    expect(leaked).toEqual([]);
  });

  it('should ship the entry points named in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      main: string;
      types: string;
      bin: Record<string, string>;
      exports: Record<string, string | { types: string; default: string }>;
    };
    const named = new Set<string>([pkg.main, pkg.types, ...Object.values(pkg.bin)]);
    for (const target of Object.values(pkg.exports)) {
      if (typeof target === 'string') named.add(target);
      else named.add(target.types).add(target.default);
    }
    const missing = [...named].map((p) => p.replace(/^\.\//, '')).filter((p) => !paths.includes(p));
    // dist/ comes from `npm run build` (run by `prepare` on npm install / npm ci).
    expect(missing).toEqual([]);
  });

  it('should ship the README, the CLI and the examples a newcomer is pointed at', () => {
    for (const p of ['README.md', 'dist/cli/main.js', 'examples/sample_portfolio.csv', 'examples/vendor_flow_200.csv', 'examples/vendor_flow_200.json', 'examples/generate-portfolio.js']) {
      expect(paths).toContain(p);
    }
  });
});
