// The package ships plain CommonJS without type declarations.
declare module 'wink-porter2-stemmer' {
  function stem(word: string): string;
  export = stem;
}
