// The Handlebars environment every template set compiles in: Almanac's helpers, and names in the
// data read directly where Handlebars would check each one.
import Handlebars from 'handlebars';
import { wrapText } from './wrap.ts';

/** A Handlebars of its own (helpers and partials are per instance) with Almanac's helpers. */
export function createHandlebars(): typeof Handlebars {
  const hb = Handlebars.create();
  registerHelpers(hb);
  readNamesDirectly(hb);
  return hb;
}

// Declaring our helpers lets Handlebars call them directly instead of resolving each name at run time;
// and since a template can use no other helpers than these and Handlebars' own, every other name is
// compiled as a plain lookup in the data (knownHelpersOnly), not as a search for a helper first. A
// call of a helper that does not exist is then reported when the template is compiled, with its line.
// preventIndent: a partial on a line of its own is otherwise re-indented line by line after it has
// rendered (split, prefix, join), which cost more than rendering the partial on listing pages.
export const COMPILE_OPTIONS: Parameters<typeof Handlebars.compile>[1] = {
  knownHelpers: { href: true, json: true, eq: true, concat: true, plural: true, upper: true, wrap: true },
  knownHelpersOnly: true,
  preventIndent: true,
};

/** Every helper a template can call, for messages. */
export const HELPERS = [...Object.keys(COMPILE_OPTIONS?.knownHelpers ?? {}), 'if', 'unless', 'each', 'with', 'lookup', 'log'].join(', ');

/** What Handlebars' JavaScript compiler looks like to a subclass (its documented extension point). */
interface CompilerClass {
  new (): object;
  prototype: { nameLookup(parent: unknown, name: string, type: string): unknown; compiler: unknown };
}

/** Every name a built-in prototype has: `length`, `constructor`, `toString`, `__proto__` … */
const PROTOTYPE_NAMES = new Set(
  [Object, Array, String, Number, Boolean, Function, Date, RegExp, Map, Set].flatMap((type) => Object.getOwnPropertyNames(type.prototype)),
);
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Handlebars reads every name in the data through a checked lookup: an own property, or one it
 * allows from a prototype. View models are plain data, so a name that no built-in prototype has can
 * only be an own property or missing, and is read directly: the same answer for one call less at
 * every {{name}} (and every helper a template calls), tens of thousands of times a build. A name a
 * prototype has keeps the check.
 */
function readNamesDirectly(hb: typeof Handlebars): void {
  const env = hb as unknown as { JavaScriptCompiler: CompilerClass };
  const base = env.JavaScriptCompiler;
  const Direct = function (this: object) {} as unknown as CompilerClass;
  Direct.prototype = Object.create(base.prototype) as CompilerClass['prototype'];
  Direct.prototype.compiler = Direct;
  Direct.prototype.nameLookup = function (this: object, parent: unknown, name: string, type: string): unknown {
    if ((type === 'context' || type === 'helper') && IDENTIFIER.test(name) && !PROTOTYPE_NAMES.has(name)) return [parent, '.', name];
    return base.prototype.nameLookup.call(this, parent, name, type);
  };
  env.JavaScriptCompiler = Direct;
}

const SCRIPT_UNSAFE = /[<>&\u2028\u2029]/g;
const scriptEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Links are written relative to the page, so dist/ works opened from disk and under any path. */
function registerHelpers(hb: typeof Handlebars): void {
  hb.registerHelper('href', function (this: unknown, target: unknown, options: Handlebars.HelperOptions) {
    const root = String((options.data.root as { page?: { root?: string } }).page?.root ?? '');
    const t = String(target ?? '');
    return t === '' || t.endsWith('/') ? `${root}${t}index.html` : `${root}${t}`;
  });
  // Safe inside <script>: the characters that could end it or confuse an HTML parser, escaped in one pass.
  hb.registerHelper('json', (value: unknown) => new hb.SafeString(JSON.stringify(value).replace(SCRIPT_UNSAFE, scriptEscape)));
  hb.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map(String).join(''));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('upper', (text: unknown) => String(text ?? '').toUpperCase());
  hb.registerHelper('wrap', (text: unknown) => wrapText(String(text ?? ''), 78));
  hb.registerHelper('plural', (count: unknown, one: unknown, many: unknown) => (count === 1 ? one : many));
}
