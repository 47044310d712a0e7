// WordNet's irregular noun forms ("analyses" → "analysis"), as plain CommonJS without type declarations.
// The same file wink-lemmatizer reads.
declare module 'wink-lexicon/src/wn-noun-exceptions.js' {
  const exceptions: Record<string, string>;
  export = exceptions;
}

// WordNet's words (word → entry) and each entry's senses as lexicographer file numbers.
declare module 'wink-lexicon/src/wn-words.js' {
  const words: Record<string, number>;
  export = words;
}
declare module 'wink-lexicon/src/wn-word-senses.js' {
  const senses: number[][];
  export = senses;
}
// The part-of-speech tags (Penn Treebank) each word of wink's lexicon can take.
declare module 'wink-lexicon/src/lexicon.js' {
  const tags: Record<string, string[] | undefined>;
  export = tags;
}
