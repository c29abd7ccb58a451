import type { KubeObject } from './object';

/**
 * An OpenAPI v2 document in the protobuf form the API server serves at `/openapi/v2` to
 * clients that ask for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, as
 * kubectl does (client-go's OpenAPISchema): gnostic's `openapi.v2.Document`, whose field
 * numbers are those of github.com/google/gnostic-models openapiv2/OpenAPIv2.proto. Only
 * the parts of the format that Kubernetes' documents use are written; values of type
 * `Any` (defaults, enums, examples, vendor extensions) carry their YAML, as gnostic's
 * compiler leaves them (JSON being YAML).
 */
export const openApiV2Protobuf = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

/** Encodes a Swagger 2.0 document (JSON) as gnostic's protobuf Document. */
export function encodeOpenApiV2(document: KubeObject): Buffer {
  const out = new Writer();
  out.string(1, document.swagger);
  out.message(2, document.info, info);
  out.string(3, document.host);
  out.string(4, document.basePath);
  out.strings(5, document.schemes);
  out.strings(6, document.consumes);
  out.strings(7, document.produces);
  out.message(8, document.paths, paths);
  out.message(9, document.definitions, (w, value) => named(w, 1, value, schema));
  out.message(10, document.parameters, (w, value) => named(w, 1, value, parameter));
  for (const requirement of document.security ?? []) out.message(12, requirement, securityRequirement);
  out.message(13, document.securityDefinitions, (w, value) => named(w, 1, value, securityDefinition));
  extensions(out, 16, document);
  return out.finish();
}

type Encode = (writer: Writer, value: KubeObject) => void;

// A protobuf writer: varints, fixed64 doubles and length-delimited fields, nested by
// writing each message to its own buffer first.
class Writer {
  private readonly chunks: Buffer[] = [];

  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }

  string(field: number, value: unknown): void {
    if (typeof value !== 'string' || value === '') return;
    this.bytes(field, Buffer.from(value, 'utf8'));
  }

  strings(field: number, values: unknown): void {
    for (const value of (values ?? []) as unknown[]) {
      if (typeof value === 'string') this.bytes(field, Buffer.from(value, 'utf8'));
    }
  }

  bool(field: number, value: unknown): void {
    if (value !== true) return;
    this.tag(field, 0);
    this.varint(1);
  }

  int64(field: number, value: unknown): void {
    if (typeof value !== 'number' || value === 0) return;
    this.tag(field, 0);
    this.varint(value);
  }

  double(field: number, value: unknown): void {
    if (typeof value !== 'number' || value === 0) return;
    this.tag(field, 1);
    const buffer = Buffer.alloc(8);
    buffer.writeDoubleLE(value);
    this.chunks.push(buffer);
  }

  message(field: number, value: unknown, encode: Encode): void {
    if (value === undefined || value === null) return;
    const inner = new Writer();
    encode(inner, value as KubeObject);
    this.bytes(field, inner.finish());
  }

  /** An `Any`: the value's YAML (here JSON) in field 2. */
  any(field: number, value: unknown): void {
    if (value === undefined) return;
    this.message(field, value, (w) => w.string(2, `${JSON.stringify(value)}\n`));
  }

  private bytes(field: number, data: Buffer): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.chunks.push(data);
  }

  private tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  private varint(value: number): void {
    const bytes: number[] = [];
    let rest = value;
    while (rest >= 0x80) {
      bytes.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    bytes.push(rest);
    this.chunks.push(Buffer.from(bytes));
  }
}

// A JSON map as repeated Named<Value> entries: name in field 1, value in field 2.
function named(writer: Writer, field: number, map: KubeObject, encode: Encode): void {
  for (const [name, value] of Object.entries(map)) {
    writer.message(field, value, (w, entry) => {
      w.string(1, name);
      w.message(2, entry, encode);
    });
  }
}

// `x-…` members as repeated NamedAny.
function extensions(writer: Writer, field: number, value: KubeObject): void {
  for (const [name, extension] of Object.entries(value)) {
    if (!name.startsWith('x-')) continue;
    writer.message(field, extension, (w) => {
      w.string(1, name);
      w.any(2, extension);
    });
  }
}

const info: Encode = (w, value) => {
  w.string(1, value.title);
  w.string(2, value.version);
  w.string(3, value.description);
  extensions(w, 7, value);
};

const schema: Encode = (w, value) => {
  w.string(1, value.$ref);
  w.string(2, value.format);
  w.string(3, value.title);
  w.string(4, value.description);
  w.any(5, value.default);
  w.double(6, value.multipleOf);
  w.double(7, value.maximum);
  w.bool(8, value.exclusiveMaximum);
  w.double(9, value.minimum);
  w.bool(10, value.exclusiveMinimum);
  w.int64(11, value.maxLength);
  w.int64(12, value.minLength);
  w.string(13, value.pattern);
  w.int64(14, value.maxItems);
  w.int64(15, value.minItems);
  w.bool(16, value.uniqueItems);
  w.int64(17, value.maxProperties);
  w.int64(18, value.minProperties);
  w.strings(19, value.required);
  for (const each of value.enum ?? []) w.any(20, each);
  if (value.additionalProperties !== undefined) {
    w.message(21, value.additionalProperties, (inner, item) => {
      if (typeof item === 'boolean') inner.bool(2, item);
      else inner.message(1, item, schema);
    });
  }
  if (value.type !== undefined) {
    w.message(22, value.type, (inner) =>
      inner.strings(1, Array.isArray(value.type) ? value.type : [value.type]),
    );
  }
  if (value.items !== undefined) {
    w.message(23, value.items, (inner, items) => {
      for (const item of Array.isArray(items) ? items : [items]) inner.message(1, item, schema);
    });
  }
  for (const each of value.allOf ?? []) w.message(24, each, schema);
  w.message(25, value.properties, (inner, properties) => named(inner, 1, properties, schema));
  w.string(26, value.discriminator);
  w.bool(27, value.readOnly);
  w.any(30, value.example);
  extensions(w, 31, value);
};

// The fields a non-body parameter shares, whatever its place (query, path, header).
const nonBodyFields: Record<
  string,
  { readonly type: number; readonly vendor: number; readonly allowEmpty?: number }
> = {
  header: { type: 5, vendor: 22 },
  formData: { type: 6, vendor: 23, allowEmpty: 5 },
  query: { type: 6, vendor: 23, allowEmpty: 5 },
  path: { type: 5, vendor: 22 },
};
const nonBodyPlace: Record<string, number> = { header: 1, formData: 2, query: 3, path: 4 };

// A parameter: BodyParameter or NonBodyParameter (Parameter's oneof).
const parameter: Encode = (w, value) => {
  if (value.in === 'body') {
    w.message(1, value, (body) => {
      body.string(1, value.description);
      body.string(2, value.name);
      body.string(3, value.in);
      body.bool(4, value.required);
      body.message(5, value.schema, schema);
      extensions(body, 6, value);
    });
    return;
  }
  const layout = nonBodyFields[value.in] ?? nonBodyFields.query!;
  w.message(2, value, (nonBody) =>
    nonBody.message(nonBodyPlace[value.in] ?? 3, value, (sub) => {
      sub.bool(1, value.required);
      sub.string(2, value.in);
      sub.string(3, value.description);
      sub.string(4, value.name);
      if (layout.allowEmpty) sub.bool(layout.allowEmpty, value.allowEmptyValue);
      sub.string(layout.type, value.type);
      sub.string(layout.type + 1, value.format);
      // uniqueItems sits after maxItems/minItems in every sub-schema: 14 fields after type.
      sub.bool(layout.type + 14, value.uniqueItems);
      extensions(sub, layout.vendor, value);
    }),
  );
};

// A ParametersItem: a reference, or a parameter.
const parametersItem: Encode = (w, value) => {
  if (value.$ref) {
    w.message(2, value, (reference) => {
      reference.string(1, value.$ref);
      reference.string(2, value.description);
    });
  } else w.message(1, value, parameter);
};

const response: Encode = (w, value) => {
  if (value.$ref) {
    w.message(2, value, (reference) => reference.string(1, value.$ref));
    return;
  }
  w.message(1, value, (inner) => {
    inner.string(1, value.description);
    inner.message(2, value.schema, (item, body) => item.message(1, body, schema));
    extensions(inner, 5, value);
  });
};

const operation: Encode = (w, value) => {
  w.strings(1, value.tags);
  w.string(2, value.summary);
  w.string(3, value.description);
  w.string(5, value.operationId);
  w.strings(6, value.produces);
  w.strings(7, value.consumes);
  for (const each of value.parameters ?? []) w.message(8, each, parametersItem);
  w.message(9, value.responses, (responses, codes) => {
    for (const [code, each] of Object.entries(codes)) {
      if (code.startsWith('x-')) continue;
      responses.message(1, each, (entry, body) => {
        entry.string(1, code);
        entry.message(2, body, response);
      });
    }
    extensions(responses, 2, codes);
  });
  w.strings(10, value.schemes);
  w.bool(11, value.deprecated);
  extensions(w, 13, value);
};

const pathItem: Encode = (w, value) => {
  w.string(1, value.$ref);
  const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];
  methods.forEach((method, index) => w.message(index + 2, value[method], operation));
  for (const each of value.parameters ?? []) w.message(9, each, parametersItem);
  extensions(w, 10, value);
};

const paths: Encode = (w, value) => {
  extensions(w, 1, value);
  for (const [path, item] of Object.entries(value)) {
    if (path.startsWith('x-')) continue;
    w.message(2, item, (entry, body) => {
      entry.string(1, path);
      entry.message(2, body, pathItem);
    });
  }
};

const securityRequirement: Encode = (w, value) =>
  named(w, 1, value, (entry, scopes) => entry.strings(1, scopes));

const securityDefinition: Encode = (w, value) => {
  if (value.type === 'apiKey') {
    w.message(2, value, (key) => {
      key.string(1, value.type);
      key.string(2, value.name);
      key.string(3, value.in);
      key.string(4, value.description);
      extensions(key, 5, value);
    });
  } else if (value.type === 'basic') {
    w.message(1, value, (basic) => {
      basic.string(1, value.type);
      basic.string(2, value.description);
      extensions(basic, 3, value);
    });
  }
};
