/**
 * Seed and run count of the property specs, shared so that every file reports and
 * reproduces the same way.
 *
 * - `FC_SEED=<n>`: the seed (default: a fresh random one per spec file, printed once).
 * - `FC_RUNS=<n>`: the run count of every property, a tenth of it for properties over large
 *   portfolios (default: each property's own, kept small so `npm test` stays fast).
 *
 * A failure names its seed and the exact command that replays it; fast-check is deterministic
 * for a given seed, so the same seed generates the same portfolios in the same order.
 */
import fc from 'fast-check';

/** How one spec file runs its properties. */
export interface PropertySettings {
  readonly seed: number;
  /** The `FC_RUNS` override, when set. */
  readonly runsOverride: number | undefined;
}

function envInteger(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * The settings of one spec file: the seed from `FC_SEED` or a fresh one. Call once at the top
 * of the file (each jest file has its own module registry, so each file gets its own seed).
 */
export function propertySettings(): PropertySettings {
  const seed = envInteger('FC_SEED') ?? Math.floor(Math.random() * 0x7fffffff);
  const runsOverride = envInteger('FC_RUNS');
  if (runsOverride !== undefined && runsOverride < 1) throw new Error('FC_RUNS must be at least 1');
  return { seed, runsOverride };
}

/** The run count of a property: `FC_RUNS` when set, else the property's default. */
export function runsOf(settings: PropertySettings, defaultRuns: number): number {
  return settings.runsOverride ?? defaultRuns;
}

/**
 * The run count of a property over large inputs: a tenth of `FC_RUNS` (at least 1) when set,
 * else the property's default.
 */
export function largeRunsOf(settings: PropertySettings, defaultRuns: number): number {
  return settings.runsOverride === undefined ? defaultRuns : Math.max(1, Math.ceil(settings.runsOverride / 10));
}

/** `seed=… runs=…` (and the large runs, when given), for test names. */
export function describeRuns(settings: PropertySettings, defaultRuns: number, defaultLargeRuns?: number): string {
  const large = defaultLargeRuns === undefined ? '' : ` + ${largeRunsOf(settings, defaultLargeRuns)} large`;
  return `fast-check seed=${settings.seed} runs=${runsOf(settings, defaultRuns)}${large}`;
}

/**
 * Writes the seed to stderr once per spec file (jest shows it beside the file's result), with
 * the command that replays it.
 *
 * @param file the spec file, as `spec/properties/x.spec.ts`
 */
export function announceSeed(settings: PropertySettings, file: string): void {
  const runs = settings.runsOverride === undefined ? 'per-property default runs' : `runs=${settings.runsOverride}`;
  process.stderr.write(`[fast-check] ${file}: seed=${settings.seed} ${runs} (replay: FC_SEED=${settings.seed} npx jest ${file})\n`);
}

/**
 * Checks a property with the file's seed; a failure's message starts with the command that
 * replays it, followed by fast-check's counterexample.
 *
 * @param defaultRuns runs when `FC_RUNS` is not set
 * @param property a sync or async fast-check property
 * @param options `large`: the property's inputs are large, so `FC_RUNS` counts a tenth
 */
export async function checkProperty<T>(
  settings: PropertySettings,
  defaultRuns: number,
  property: fc.IProperty<T> | fc.IAsyncProperty<T>,
  options: { readonly large?: boolean } = {},
): Promise<void> {
  const numRuns = options.large ? largeRunsOf(settings, defaultRuns) : runsOf(settings, defaultRuns);
  try {
    await fc.assert(property, { seed: settings.seed, numRuns });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // fast-check keeps the failing assertion as `cause`: its text (jest's diff) is the useful part.
    const cause = error instanceof Error && error.cause instanceof Error ? `\nCaused by: ${error.cause.message.slice(0, 4000)}` : '';
    throw new Error(`property failed with FC_SEED=${settings.seed} (numRuns ${numRuns}); replay with FC_SEED=${settings.seed}\n${message}${cause}`);
  }
}

/**
 * A jest timeout for a property: the default 20 s, or more when `FC_RUNS` asks for more runs
 * than that covers.
 *
 * @param msPerRun a generous cost of one run
 */
export function timeoutFor(settings: PropertySettings, defaultRuns: number, msPerRun: number, large?: { readonly runs: number; readonly msPerRun: number }): number {
  const largeMs = large === undefined ? 0 : largeRunsOf(settings, large.runs) * large.msPerRun;
  return Math.max(20_000, runsOf(settings, defaultRuns) * msPerRun + largeMs);
}
