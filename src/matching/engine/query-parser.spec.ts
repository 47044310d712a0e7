import { parseQuery, QueryNode, QuerySyntaxError } from './query-parser';
import { compileTopics, validateQuery } from './compile';

/** Compact rendering of an AST, to assert structure and precedence. */
function show(node: QueryNode): string {
  switch (node.kind) {
    case 'text': {
      const body = node.quoted ? `"${node.text}"` : `[${node.text}]`;
      return node.field === 'any' ? body : `${node.field}:${body}`;
    }
    case 'not':
      return `-${show(node.child)}`;
    case 'and':
      return `AND(${node.children.map(show).join(' ')})`;
    case 'or':
      return `OR(${node.children.map(show).join(' ')})`;
  }
}

const parse = (q: string) => show(parseQuery(q));

describe('query language', () => {
  it('joins adjacent plain words into one soft phrase', () => {
    expect(parse('diffusion models')).toBe('[diffusion models]');
  });

  it('keeps a quoted phrase exact and separate from neighbouring words', () => {
    expect(parse('"diffusion models" guidance')).toBe('AND("diffusion models" [guidance])');
  });

  it('binds OR tighter than juxtaposition (AND)', () => {
    expect(parse('graph OR tree pruning')).toBe('AND(OR([graph] [tree]) [pruning])');
    expect(parse('a OR b OR c')).toBe('OR([a] [b] [c])');
  });

  it('groups with parentheses', () => {
    expect(parse('(graph pruning) OR sparsity')).toBe('OR([graph pruning] [sparsity])');
    expect(parse('transformers (vision OR "image classification")')).toBe(
      'AND([transformers] OR([vision] "image classification"))',
    );
  });

  it('accepts explicit AND and NOT', () => {
    expect(parse('pruning AND sparsity')).toBe('AND([pruning] [sparsity])');
    expect(parse('pruning NOT quantization')).toBe('AND([pruning] -[quantization])');
  });

  it('parses exclusions of words, phrases and groups', () => {
    expect(parse('diffusion -audio')).toBe('AND([diffusion] -[audio])');
    expect(parse('diffusion -"language model"')).toBe('AND([diffusion] -"language model")');
    expect(parse('diffusion -(audio OR speech)')).toBe('AND([diffusion] -OR([audio] [speech]))');
  });

  it('treats a hyphen inside a word as part of the word, and a lone dash as punctuation', () => {
    expect(parse('test-time adaptation')).toBe('[test-time adaptation]');
    expect(parse('pruning - sparsity')).toBe('[pruning sparsity]');
  });

  it('applies field prefixes to a word, a phrase or a group', () => {
    expect(parse('title:pruning')).toBe('title:[pruning]');
    expect(parse('title:"neural collapse" theory')).toBe('AND(title:"neural collapse" [theory])');
    expect(parse('title:(pruning OR sparsity)')).toBe('OR(title:[pruning] title:[sparsity])');
    expect(parse('author:"Yann LeCun" convolution')).toBe('AND(author:"Yann LeCun" [convolution])');
    expect(parse('Title:pruning')).toBe('title:[pruning]');
  });

  it('reads an unknown prefix as plain text', () => {
    expect(parse('note:pruning')).toBe('[note:pruning]');
  });

  it.each([
    ['', 'query is empty'],
    ['   ', 'query is empty'],
    ['"diffusion models', 'unbalanced quotes'],
    ['(pruning OR sparsity', 'unbalanced parentheses'],
    ['pruning)', 'unbalanced parentheses'],
    ['()', 'empty parentheses'],
    ['""', 'empty quoted phrase'],
    ['-pruning', 'a query of only exclusions matches nothing'],
    ['-pruning -"neural networks"', 'a query of only exclusions matches nothing'],
    ['OR pruning', 'OR needs a term on each side'],
    ['pruning OR', 'OR needs a term on each side'],
    ['pruning OR OR sparsity', 'OR needs a term on each side'],
    ['pruning AND', 'AND needs a term on each side'],
    ['pruning OR -sparsity', 'an exclusion cannot be an alternative of OR'],
    ['title:', 'title: must be followed by a word, phrase or group'],
    ['title:(author:lecun)', 'field prefixes cannot be nested'],
    ['x'.repeat(257), 'query is longer than 256 characters'],
  ])('rejects %j with a message saying what is wrong', (query, message) => {
    expect(() => parseQuery(query)).toThrow(QuerySyntaxError);
    expect(validateQuery(query)).toContain(message);
  });

  it('rejects a query whose words are all stop words or punctuation', () => {
    expect(validateQuery('the of and')).toContain('no searchable words');
    expect(validateQuery('!!!')).toContain('no searchable words');
  });

  it('accepts a query of exactly 256 characters', () => {
    expect(validateQuery(`${'ab '.repeat(85)}a`)).toBeNull();
  });

  it('returns null for valid queries', () => {
    for (const q of ['neural collapse', '"scaling laws" -survey', 'LLM (agents OR tools)', 'author:hinton']) {
      expect(validateQuery(q)).toBeNull();
    }
  });

  it('names the topic when compiling an invalid query', () => {
    expect(() => compileTopics([{ id: 'ok', query: 'pruning' }, { id: 'T7', query: '"open' }])).toThrow(
      'topic T7: unbalanced quotes',
    );
  });
});
