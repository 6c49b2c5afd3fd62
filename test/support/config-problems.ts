import { ConfigError } from '../../src/config/config-reader';
import { loadConfig } from '../../src/config/config';

/** What loadConfig refuses in `env`, one line per problem (none: it loads). */
export function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
