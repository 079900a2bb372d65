// Where a site keeps its files, relative to its root. Every module that names one of these places
// takes it from here, so the readers of a place and its writers cannot drift apart.

/** The configuration. */
export const CONFIG_FILE = 'almanac.config.json';

/** Editors' content: guides and news items. */
export const CONTENT_DIR = 'content';
export const GUIDES_DIR = `${CONTENT_DIR}/guides`;
export const NEWS_DIR = `${CONTENT_DIR}/news`;
/** The editor's notes on an issue, one optional file per issue: `<YYYY-MM-DD>-<edition>.md`. */
export const ISSUE_NOTES_DIR = `${CONTENT_DIR}/issues`;

/** Inside a guide's folder: the working copy, the list of published versions and their frozen copies. */
export const WORKING_COPY = 'guide.md';
export const MANIFEST = 'versions.json';
export const VERSIONS_DIR = 'versions';

/** The site's own templates, each overriding the built-in one of the same name. */
export const TEMPLATES_DIR = 'templates';

/** What Almanac keeps for itself: built issues and, unless DATABASE_URL says otherwise, the database. */
export const STATE_DIR = '.almanac';
export const ISSUES_STORE = `${STATE_DIR}/issues`;
export const DEFAULT_DATABASE = `${STATE_DIR}/almanac.db`;
