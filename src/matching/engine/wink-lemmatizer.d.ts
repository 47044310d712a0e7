// The package ships plain CommonJS without type declarations; only the adjective lemmatizer is used.
declare module 'wink-lemmatizer' {
  const lemmatize: { adjective(word: string): string };
  export = lemmatize;
}
