// Orders: what a valid one looks like, and the book that keeps them. The sample keeps its
// orders in memory (a real service would keep them in its database), starting with two so
// that a fresh deployment has something to list.

const skuPattern = /^[A-Z0-9][A-Z0-9-]{0,31}$/;
const maxItems = 50;
const maxQuantity = 1000;
const maxCustomerLength = 100;

/**
 * Checks the body of POST /api/orders: `{ customer, items: [{ sku, quantity }] }`. Returns
 * the order's fields, or every problem found, each naming the field.
 */
export function validateOrderInput(input) {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return {
      ok: false,
      problems: [
        'the body must be a JSON object: { "customer": "...", "items": [{ "sku": "A1", "quantity": 1 }] }',
      ],
    };
  }
  const problems = [];
  const { customer, items } = input;
  if (typeof customer !== 'string' || customer.trim() === '' || customer.length > maxCustomerLength) {
    problems.push(`customer must be a non-empty string of at most ${maxCustomerLength} characters`);
  }
  if (!Array.isArray(items) || items.length === 0 || items.length > maxItems) {
    problems.push(`items must be a list of 1 to ${maxItems} items`);
  } else {
    items.forEach((item, index) => problems.push(...itemProblems(item, `items[${index}]`)));
  }
  for (const key of Object.keys(input)) {
    if (key !== 'customer' && key !== 'items')
      problems.push(`${key} is not an order field; an order has customer and items`);
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: { customer: customer.trim(), items: items.map(({ sku, quantity }) => ({ sku, quantity })) },
  };
}

function itemProblems(item, where) {
  if (typeof item !== 'object' || item === null) return [`${where} must be an object with sku and quantity`];
  const problems = [];
  if (typeof item.sku !== 'string' || !skuPattern.test(item.sku)) {
    problems.push(`${where}.sku must be 1 to 32 capital letters, digits or dashes, such as A1`);
  }
  if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > maxQuantity) {
    problems.push(`${where}.quantity must be an integer from 1 to ${maxQuantity}`);
  }
  return problems;
}

/** The orders a fresh service starts with. */
export const sampleOrders = [
  { customer: 'contoso', items: [{ sku: 'A1', quantity: 2 }] },
  {
    customer: 'fabrikam',
    items: [
      { sku: 'B7', quantity: 1 },
      { sku: 'C3', quantity: 12 },
    ],
  },
];

/** Creates an order book holding `initial` (validated inputs), with ids `ord-0001`, `ord-0002`... */
export function createOrderBook({ initial = sampleOrders, now = () => new Date() } = {}) {
  const orders = new Map();
  const add = (fields) => {
    const id = `ord-${String(orders.size + 1).padStart(4, '0')}`;
    const order = { id, ...structuredClone(fields), status: 'open', createdAt: now().toISOString() };
    orders.set(id, order);
    return structuredClone(order);
  };
  initial.forEach(add);
  return {
    /** Every order, oldest first. */
    list: () => [...orders.values()].map((order) => structuredClone(order)),
    /** One order, or undefined. */
    get: (id) => (orders.has(id) ? structuredClone(orders.get(id)) : undefined),
    /** Adds a validated order and returns it with its id. */
    add,
  };
}
