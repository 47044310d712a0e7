// WordNet's irregular noun forms ("analyses" → "analysis"), as plain CommonJS without type declarations.
// The same file wink-lemmatizer reads.
declare module 'wink-lexicon/src/wn-noun-exceptions.js' {
  const exceptions: Record<string, string>;
  export = exceptions;
}
