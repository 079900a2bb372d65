// A secret setting comes from the environment in one of two ways: the value itself in NAME, or a file
// named by NAME_FILE (a mounted secret, a key file). Both set is a mistake; a file that cannot be read
// is named in the problem, unless what was given is the secret itself put in the wrong variable.
import { readFileSync } from 'node:fs';
import type { Problem } from '../content/problems.ts';

export interface SecretSetting {
  text: string;
  /** The variable it came from, NAME or NAME_FILE, for the problems about its value. */
  variable: string;
}

/**
 * The secret in `variable` or in the file `${variable}_FILE` names; undefined (and a problem pushed)
 * when both are set or the file cannot be read, undefined alone when neither is set. `what` names the
 * secret in problems ("key", "password"); `fileExpected` is what the file should be.
 */
export function secretSetting(
  variable: string,
  env: NodeJS.ProcessEnv,
  o: { what: string; fileExpected: string; encoding: BufferEncoding },
  problems: Problem[],
): SecretSetting | undefined {
  const fileVariable = `${variable}_FILE`;
  const text = env[variable];
  const file = env[fileVariable];
  if (text && file) {
    problems.push({ file: 'environment', field: variable, expected: `either ${variable} or ${fileVariable}`, found: 'both set' });
    return undefined;
  }
  if (text) return { text, variable };
  if (!file) return undefined;
  try {
    return { text: readFileSync(file, o.encoding), variable: fileVariable };
  } catch (err) {
    const shown = shownFileName(file, `the ${o.what} itself goes in ${variable}`);
    problems.push({ file: 'environment', field: fileVariable, expected: o.fileExpected, found: `${(err as NodeJS.ErrnoException).code ?? 'an error'} reading ${shown}` });
    return undefined;
  }
}

/**
 * The file name a problem shows: a secret pasted into the _FILE variable is not one, and must not be
 * printed back; a value that does not look like a path is taken for one.
 */
function shownFileName(value: string, hint: string): string {
  if (/-----BEGIN|[\r\n]|\\n/.test(value)) return `PEM text where a file name belongs (${hint})`;
  // A bare base64 key body is as secret as the PEM around it; a path that long is seldom one.
  if (value.length > 255) return `a value of ${value.length} characters where a file name belongs`;
  const looksLikePath = !/\s/.test(value) && (value.includes('/') || /^[\w.-]+\.\w{1,8}$/.test(value));
  return looksLikePath ? JSON.stringify(value) : `a value that does not look like a file name (${hint})`;
}
