// A guide's levels, in the order listings show them. Apart from the schema, so that pages that list
// levels do not load the validation library on a rebuild that validates nothing.
export const LEVELS = ['beginner', 'intermediate', 'advanced'] as const;
export type Level = (typeof LEVELS)[number];
