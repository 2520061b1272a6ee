import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS: Node hands its module.exports (the plugin) to a default import, while the
// types describe the ES-module shape; the plugin carries itself as `.default`, which satisfies both.
const addFormats = addFormatsModule.default;

const COMMON: Options = {
  // Fastify's default is to drop unknown properties silently; we reject them (schemas close every object).
  removeAdditional: false,
  // One error is enough for a sentence, and collecting all of them is an easy denial of service.
  allErrors: false,
  useDefaults: true,
  strict: true,
};

/**
 * Two Ajv instances: JSON bodies are checked as sent (a priority of "3" is text, not a number), while the
 * query string, path and headers are text by nature and are coerced to the declared types.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = new Ajv({ ...COMMON, coerceTypes: false });
  const text = new Ajv({ ...COMMON, coerceTypes: 'array' });
  addFormats(body);
  addFormats(text);
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema as object);
}
