import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { ApiError, badRequest, type KubeObject } from './object';
import { builtInTypes } from './resources';
import type { GoFields, ProtoData } from './protobuf/generate';

/**
 * The API server's protobuf encoding of built-in kinds, which client-go's typed clients
 * (kubectl 1.32's `create`, `auth`, `autoscale`, `describe`) send and ask for: the magic
 * `k8s\0`, then a `runtime.Unknown` holding the apiVersion, the kind and the object's own
 * message. https://kubernetes.io/docs/reference/using-api/api-concepts/#protobuf-encoding
 *
 * protobufjs reads and writes the wire format from the Kubernetes `generated.proto`
 * definitions (protobuf/kubernetes-proto.json.br, see protobuf/README.md). What a .proto
 * cannot say about the JSON form (inlined structs, pointers, Go slices) comes from the Go
 * types, and the few apimachinery types with their own JSON (Time, Quantity, IntOrString...)
 * are mapped below, so that an object reads as the JSON a client would have sent.
 */
export const protobufMediaType = 'application/vnd.kubernetes.protobuf';

// The four bytes before every encoded object (k8s.io/apimachinery/pkg/runtime/serializer/protobuf).
const magic = Buffer.from('k8s\0', 'latin1');
const metaPackage = 'k8s.io.apimachinery.pkg.apis.meta.v1';

/** The k8s.io/api folder of a built-in group ('' is core; `rbac.authorization.k8s.io` is rbac). */
export function apiFolder(group: string, version: string): string {
  return `${group === '' ? 'core' : group.split('.')[0]}/${version}`;
}

/** Whether an Accept header's first choice is protobuf (a Table or a watch stream are asked for otherwise). */
export function prefersProtobuf(accept: string | undefined): boolean {
  const first = (accept ?? '').split(',')[0]!.split(';');
  return first[0]!.trim() === protobufMediaType && first.length === 1;
}

/**
 * Decodes a protobuf request body into the object a JSON client would have sent. A kind
 * with no protobuf form (a custom resource) is refused with 415, as the API server
 * refuses it; a body that is not the envelope with 400.
 */
export function decodeProtobuf(body: Buffer): KubeObject {
  const { unknown } = schema();
  if (!body.subarray(0, magic.length).equals(magic)) {
    throw badRequest(
      'the object provided is unrecognized: provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]',
    );
  }
  let envelope: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array };
  try {
    envelope = unknown.decode(body.subarray(magic.length)) as typeof envelope & protobuf.Message;
  } catch (error) {
    throw badRequest(`the object provided is unrecognized: ${(error as Error).message}`);
  }
  const apiVersion = envelope.typeMeta?.apiVersion ?? '';
  const kind = envelope.typeMeta?.kind ?? '';
  const type = messageOf(apiVersion, kind);
  if (!type) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml',
    );
  }
  let message: protobuf.Message;
  try {
    message = type.decode(envelope.raw ?? new Uint8Array());
  } catch (error) {
    throw badRequest(`the object provided is unrecognized: ${(error as Error).message}`);
  }
  const fields = toJson(type, type.toObject(message, { longs: Number, bytes: String })) as KubeObject;
  return { kind, apiVersion, ...fields };
}

/**
 * Encodes an object for a client that asked for protobuf; undefined when its kind has no
 * protobuf form (a custom resource), which the API server then answers as JSON.
 */
export function encodeProtobuf(object: KubeObject): Buffer | undefined {
  const { unknown } = schema();
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const type = messageOf(apiVersion, kind);
  if (!type) return undefined;
  const raw = type.encode(type.fromObject(fromJson(type, object) as Record<string, unknown>)).finish();
  // The API server writes the two content fields empty rather than leaving them out.
  const envelope = unknown.fromObject({
    typeMeta: { apiVersion, kind },
    raw,
    contentEncoding: '',
    contentType: '',
  });
  return Buffer.concat([magic, unknown.encode(envelope).finish()]);
}

interface Schema {
  readonly root: protobuf.Root;
  readonly unknown: protobuf.Type;
  readonly goFields: Record<string, GoFields>;
  readonly lists: ReadonlySet<string>;
  /** The proto package of each built-in group-version (`apps/v1` → `k8s.io.api.apps.v1`). */
  readonly packages: ReadonlyMap<string, string>;
}

// Read on the first protobuf request only: JSON clients (the tasks, the demo) never pay for it.
let loaded: Schema | undefined;
function schema(): Schema {
  if (loaded) return loaded;
  const data = JSON.parse(
    brotliDecompressSync(readFileSync(join(__dirname, 'protobuf', 'kubernetes-proto.json.br'))).toString(),
  ) as ProtoData;
  const root = protobuf.Root.fromJSON(data.descriptor);
  root.resolveAll();
  const packages = new Map<string, string>();
  for (const type of builtInTypes) {
    const name = `k8s.io.api.${apiFolder(type.group, type.version).replace('/', '.')}`;
    if (root.lookup(name)) packages.set(type.group ? `${type.group}/${type.version}` : type.version, name);
  }
  loaded = {
    root,
    unknown: root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown'),
    goFields: data.goFields,
    lists: new Set(data.lists),
    packages,
  };
  return loaded;
}

// The message of a built-in kind: its group-version's, else meta/v1's (Status, DeleteOptions).
function messageOf(apiVersion: string, kind: string): protobuf.Type | undefined {
  const { root, packages } = schema();
  const found = packages.has(apiVersion) ? root.lookup(`${packages.get(apiVersion)}.${kind}`) : null;
  const meta = root.lookup(`${metaPackage}.${kind}`);
  const type = found ?? (packages.has(apiVersion) || apiVersion === 'meta.k8s.io/v1' ? meta : null);
  return type instanceof protobuf.Type ? type : undefined;
}

type Plain = Record<string, unknown>;

/** The apimachinery messages whose JSON is a string, a number or raw JSON. */
const special: Record<string, { toJson(value: Plain): unknown; fromJson(value: unknown): Plain }> = {
  // A zero time is null in JSON (metav1.Time's MarshalJSON); times are whole seconds.
  [`${metaPackage}.Time`]: {
    toJson: (value) => (value.seconds || value.nanos ? rfc3339(Number(value.seconds ?? 0), 0) : null),
    fromJson: (value) => ({ seconds: Math.floor(Date.parse(String(value)) / 1000) }),
  },
  [`${metaPackage}.MicroTime`]: {
    toJson: (value) =>
      value.seconds || value.nanos ? rfc3339(Number(value.seconds ?? 0), Number(value.nanos ?? 0), 6) : null,
    fromJson: (value) => {
      const text = String(value);
      const fraction = /\.(\d+)/.exec(text)?.[1] ?? '';
      return {
        seconds: Math.floor(Date.parse(text.replace(/\.\d+/, '')) / 1000),
        nanos: Number(fraction.padEnd(9, '0').slice(0, 9)),
      };
    },
  },
  [`${metaPackage}.Duration`]: {
    toJson: (value) => goDuration(Number(value.duration ?? 0)),
    fromJson: (value) => ({ duration: parseGoDuration(String(value)) }),
  },
  // intstr.IntOrString: type 0 is an int, 1 a string.
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': {
    toJson: (value) =>
      Number(value.type ?? 0) === 1 ? String(value.strVal ?? '') : Number(value.intVal ?? 0),
    fromJson: (value) =>
      typeof value === 'string' ? { type: 1, strVal: value } : { type: 0, intVal: Number(value) },
  },
  'k8s.io.apimachinery.pkg.api.resource.Quantity': {
    toJson: (value) => String(value.string ?? '0'),
    fromJson: (value) => ({ string: String(value) }),
  },
  // Raw JSON in a bytes field (managedFields' fieldsV1, ControllerRevision's data).
  [`${metaPackage}.FieldsV1`]: {
    toJson: (value) => rawJson(value.Raw),
    fromJson: (value) => ({ Raw: Buffer.from(JSON.stringify(value)).toString('base64') }),
  },
  'k8s.io.apimachinery.pkg.runtime.RawExtension': {
    toJson: (value) => rawJson(value.raw),
    fromJson: (value) => ({ raw: Buffer.from(JSON.stringify(value)).toString('base64') }),
  },
};

// A message as Go's JSON writes the struct protobuf decoded into: inlined structs merged
// into their parent, zero scalars left out where the field is `omitempty` and no pointer.
function toJson(type: protobuf.Type, value: Plain): unknown {
  const name = type.fullName.slice(1);
  const { goFields, lists } = schema();
  if (special[name]) return special[name].toJson(value);
  if (lists.has(name)) return value.items ?? [];
  const go = goFields[name];
  const out: Plain = {};
  for (const field of type.fieldsArray) {
    if (!(field.name in value)) continue;
    const converted = fieldToJson(field, value[field.name]);
    if (go?.inline?.includes(field.name)) {
      Object.assign(out, converted);
      continue;
    }
    if (converted === null || converted === undefined) continue;
    const scalar = !field.resolvedType && !field.repeated && !field.map;
    if (scalar && !converted && !go?.keepZero?.includes(field.name)) continue;
    out[field.name] = converted;
  }
  return out;
}

function fieldToJson(field: protobuf.Field, value: unknown): unknown {
  const message = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
  if (!message) return value;
  const convert = (each: unknown) => toJson(message, each as Plain);
  if (field.map)
    return Object.fromEntries(Object.entries(value as Plain).map(([key, each]) => [key, convert(each)]));
  if (field.repeated) return (value as unknown[]).map(convert);
  return convert(value);
}

// The plain object protobufjs's fromObject takes for a JSON value: the inverse of toJson.
// Fields the message does not have are left out, as the API server's decoder drops them.
function fromJson(type: protobuf.Type, value: unknown): unknown {
  const name = type.fullName.slice(1);
  const { goFields, lists } = schema();
  if (special[name]) return special[name].fromJson(value);
  if (lists.has(name)) return { items: value };
  const object = (value ?? {}) as Plain;
  const inline = goFields[name]?.inline ?? [];
  const out: Plain = {};
  for (const field of type.fieldsArray) {
    const message = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    if (inline.includes(field.name) && message) {
      out[field.name] = fromJson(message, object);
      continue;
    }
    const each = object[field.name];
    if (each === undefined || each === null) continue;
    const convert = (item: unknown) => (message ? fromJson(message, item) : item);
    if (field.map) {
      out[field.name] = Object.fromEntries(
        Object.entries(each as Plain).map(([key, item]) => [key, convert(item)]),
      );
    } else if (field.repeated) out[field.name] = (each as unknown[]).map(convert);
    else out[field.name] = convert(each);
  }
  return out;
}

function rawJson(base64: unknown): unknown {
  const text = Buffer.from(String(base64 ?? ''), 'base64').toString();
  return text ? (JSON.parse(text) as unknown) : null;
}

// RFC 3339 in UTC, with `digits` of a second's fraction.
function rfc3339(seconds: number, nanos: number, digits = 0): string {
  const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
  const fraction = digits ? `.${String(nanos).padStart(9, '0').slice(0, digits)}` : '';
  return `${whole}${fraction}Z`;
}

const durationUnits: readonly [string, number][] = [
  ['h', 3600e9],
  ['m', 60e9],
  ['s', 1e9],
  ['ms', 1e6],
  ['us', 1e3],
  ['µs', 1e3],
  ['ns', 1],
];

// Go's time.Duration.String() for whole-nanosecond durations: 1h2m3.5s, 1.5s, 0s.
function goDuration(nanoseconds: number): string {
  if (nanoseconds === 0) return '0s';
  const sign = nanoseconds < 0 ? '-' : '';
  let rest = Math.abs(nanoseconds);
  if (rest < 1e9) {
    const [unit, size] = rest < 1e3 ? ['ns', 1] : rest < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${sign}${rest / size}${unit}`;
  }
  const hours = Math.floor(rest / 3600e9);
  rest -= hours * 3600e9;
  const minutes = Math.floor(rest / 60e9);
  rest -= minutes * 60e9;
  return `${sign}${hours ? `${hours}h` : ''}${hours || minutes ? `${minutes}m` : ''}${rest / 1e9}s`;
}

// Go's time.ParseDuration, for the units it accepts.
function parseGoDuration(text: string): number {
  const sign = text.startsWith('-') ? -1 : 1;
  let total = 0;
  for (const [, amount, unit] of text.replace(/^[-+]/, '').matchAll(/([\d.]+)(h|ms|m|s|us|µs|ns)/g)) {
    total += Number(amount) * durationUnits.find(([name]) => name === unit)![1];
  }
  return sign * Math.round(total);
}
