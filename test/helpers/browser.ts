import { afterAll, beforeAll, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { Browser } from 'puppeteer-core';

// Added to puppeteer's own defaults (headless, no first-run, no background networking…): as root
// there is no sandbox, and nothing may reach the network but the app under test.
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--disable-crash-reporter',
];

/**
 * What the Chromium inside @sparticuz/chromium needs beyond FLAGS: it is a headless shell built for
 * machines with no GPU and no zygote helpers. Its own list also turns web security off, which a
 * test of same-origin cookie writes must not do, so only these are taken from it.
 */
const BUNDLED_FLAGS = ['--no-zygote', '--single-process', '--in-process-gpu', '--use-gl=angle', '--use-angle=swiftshader'];

interface Candidate {
  source: string;
  path: () => Promise<string | undefined>;
  flags: string[];
}

function onPath(...names: string[]): string | undefined {
  for (const name of names) {
    try {
      const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (found) return found;
    } catch {
      // not installed under this name
    }
  }
  return undefined;
}

/**
 * In order of preference: CHROMIUM_PATH, a Chromium or Chrome installed on the system, then the
 * Chromium that the @sparticuz/chromium dev dependency ships inside the npm package (Linux x64 and
 * arm64), so `npm install && npm test` needs nothing installed by hand.
 */
function candidates(): Candidate[] {
  const list: Candidate[] = [];
  const configured = process.env.CHROMIUM_PATH;
  if (configured)
    list.push({ source: `CHROMIUM_PATH (${configured})`, path: () => Promise.resolve(existsSync(configured) ? configured : undefined), flags: FLAGS });
  list.push({
    source: 'a system Chromium or Chrome',
    path: () => Promise.resolve(onPath('chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome')),
    flags: FLAGS,
  });
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) {
    list.push({
      source: '@sparticuz/chromium',
      path: async () => {
        const bundled = (await import('@sparticuz/chromium')).default;
        return bundled.executablePath();
      },
      flags: [...FLAGS, ...BUNDLED_FLAGS],
    });
  }
  return list;
}

export interface LaunchedBrowser {
  browser: Browser;
  source: string;
  close: () => Promise<void>;
}

/**
 * The first browser that launches, with its own throwaway profile; undefined when none can run
 * here. Then the browser tests are skipped with a notice, unless REQUIRE_BROWSER=1 (CI), where the
 * caller must fail instead: `requireBrowser()` says which.
 */
export async function launchBrowser(): Promise<LaunchedBrowser | { browser?: undefined; failures: string[] }> {
  const failures: string[] = [];
  for (const candidate of candidates()) {
    let path: string | undefined;
    try {
      path = await candidate.path();
    } catch (error) {
      failures.push(`${candidate.source}: ${(error as Error).message}`);
      continue;
    }
    if (!path) {
      failures.push(`${candidate.source}: not found`);
      continue;
    }
    const profile = mkdtempSync(join(tmpdir(), 'gatehouse-chromium-'));
    try {
      const browser = await puppeteer.launch({
        executablePath: path,
        headless: true,
        pipe: true,
        userDataDir: profile,
        args: candidate.flags,
      });
      return {
        browser,
        source: candidate.source,
        close: async () => {
          await browser.close();
          rmSync(profile, { recursive: true, force: true });
        },
      };
    } catch (error) {
      rmSync(profile, { recursive: true, force: true });
      failures.push(`${candidate.source} (${path}): ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return { failures };
}

/** REQUIRE_BROWSER=1 turns a missing browser from a skipped tier into a failure (CI sets it). */
export const browserRequired = () => process.env.REQUIRE_BROWSER === '1';

/** The loud notice printed when the browser tier is skipped. */
export function skippedBrowserNotice(failures: string[]): string {
  return [
    '',
    '=================================================================================',
    ' BROWSER TESTS SKIPPED: no Chromium could be launched on this machine.',
    ...failures.map((failure) => `   - ${failure}`),
    ' Set CHROMIUM_PATH to a Chromium or Chrome binary to run them; REQUIRE_BROWSER=1 makes this a failure.',
    '=================================================================================',
    '',
  ].join('\n');
}

/** The browser of one test file (useBrowser): undefined until launched, or when none could be. */
export interface SuiteBrowser {
  get(): Browser | undefined;
  /**
   * At the top of each browser test: where REQUIRE_BROWSER=1 (CI) a browser that could not be
   * launched fails the test; elsewhere the test is skipped (the file's notice said why, loudly).
   */
  require(test: { skip: () => void }): Browser;
}

/**
 * Launches one browser for a test file (beforeAll), then runs `whenLaunched` (start the app
 * listening, for example); prints the skip notice where none can run; closes it (afterAll).
 */
export function useBrowser(whenLaunched: () => Promise<void> = () => Promise.resolve()): SuiteBrowser {
  let launched: LaunchedBrowser | undefined;
  let failures: string[] = [];
  beforeAll(async () => {
    const outcome = await launchBrowser();
    if (!outcome.browser) {
      failures = outcome.failures;
      if (!browserRequired()) process.stderr.write(skippedBrowserNotice(failures));
      return;
    }
    launched = outcome;
    await whenLaunched();
  }, 120_000);
  afterAll(async () => {
    await launched?.close();
  });
  return {
    get: () => launched?.browser,
    require(test) {
      if (launched) return launched.browser;
      if (browserRequired()) expect.fail(`no browser could be launched:\n${failures.join('\n')}`);
      test.skip();
      throw new Error('skipped');
    },
  };
}
