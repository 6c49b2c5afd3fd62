import { execFileSync } from 'node:child_process';

/**
 * Tests that need a program from outside npm skip when it is absent, so `npm test` passes on a fresh machine; CI
 * installs the program and sets RELAY_REQUIRE_<NAME>=1, under which its absence is a failure instead.
 */
export function hasProgram(program: string, requiredFlag: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env[requiredFlag] === '1')
      throw new Error(`${program} is required (${requiredFlag}=1) but not installed`);
    process.stderr.write(`skipping tests that need ${program}: it is not installed (CI sets ${requiredFlag}=1)\n`);
    return false;
  }
}
