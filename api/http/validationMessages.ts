/** The parts of an Ajv error object a sentence needs (Fastify hands these over as `error.validation`). */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

export type ValidationContext = 'body' | 'querystring' | 'params' | 'headers' | string;

export interface ValidationDescription {
  /** "location.lat", "agencies[2]", or "" for the whole body. */
  field: string;
  detail: string;
}

const FIELD_WORD: Record<string, string> = {
  body: 'The field',
  querystring: 'The query parameter',
  params: 'The path parameter',
  headers: 'The header',
};

const WHOLE: Record<string, string> = {
  body: 'The request body',
  querystring: 'The query string',
  params: 'The path',
  headers: 'The headers',
};

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'a list',
  null: 'null',
};

const FORMAT_WORDS: Record<string, string> = {
  'date-time': 'a date and time in ISO 8601 form, e.g. 2026-11-25T08:00:00Z',
  date: 'a date in ISO 8601 form, e.g. 2026-11-25',
  uuid: 'a UUID',
  email: 'an e-mail address',
  uri: 'a URI',
};

/** "/location/lat" → "location.lat", "/agencies/0" → "agencies[0]". */
export function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  let out = '';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function mustBe(error: SchemaError): string {
  const p = error.params;
  switch (error.keyword) {
    case 'type': {
      const types = String(p.type ?? '').split(',');
      return `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${String(p.comparison)} ${String(p.limit)}`;
    case 'minLength':
      return Number(p.limit) === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long`;
    case 'maxLength':
      return `must be at most ${String(p.limit)} characters long`;
    case 'minItems':
      return `must have at least ${String(p.limit)} item${Number(p.limit) === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must have at most ${String(p.limit)} item${Number(p.limit) === 1 ? '' : 's'}`;
    case 'uniqueItems':
      return `must not repeat an item (items ${String(p.j)} and ${String(p.i)} are the same)`;
    case 'enum':
      return `must be one of: ${(p.allowedValues as unknown[] | undefined)?.map(quote).join(', ') ?? 'the allowed values'}`;
    case 'const':
      return `must be ${quote(p.allowedValue)}`;
    case 'format':
      return `must be ${FORMAT_WORDS[String(p.format)] ?? `in ${String(p.format)} format`}`;
    case 'pattern':
      return `has the wrong form (expected to match ${String(p.pattern)})`;
    case 'multipleOf':
      return `must be a multiple of ${String(p.multipleOf)}`;
    case 'minProperties':
      return `must have at least ${String(p.limit)} field${Number(p.limit) === 1 ? '' : 's'}`;
    case 'maxProperties':
      return `must have at most ${String(p.limit)} fields`;
    case 'anyOf':
    case 'oneOf':
      return 'does not match any of the allowed forms';
    default:
      return error.message ?? 'is not valid';
  }
}

/** One human sentence for the first schema violation, naming the field the client must fix. */
export function describeValidationError(errors: readonly SchemaError[], context: ValidationContext = 'body'): ValidationDescription {
  const error = errors[0];
  const fieldWord = FIELD_WORD[context] ?? 'The field';
  if (!error) return { field: '', detail: `${WHOLE[context] ?? 'The request'} is not valid.` };
  if (error.keyword === 'additionalProperties') {
    const field = fieldPath(error.instancePath, String(error.params.additionalProperty));
    return { field, detail: `${fieldWord} '${field}' is not allowed.` };
  }
  if (error.keyword === 'required') {
    const field = fieldPath(error.instancePath, String(error.params.missingProperty));
    return { field, detail: `${fieldWord} '${field}' is required.` };
  }
  const field = fieldPath(error.instancePath);
  const subject = field === '' ? (WHOLE[context] ?? 'The request') : `${fieldWord} '${field}'`;
  return { field, detail: `${subject} ${mustBe(error)}.` };
}
