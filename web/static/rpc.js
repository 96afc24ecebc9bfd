// JSON-RPC client for the server's Odoo routes: the only way the pages
// reach data (/web/session/*, /web/dataset/call_kw, call_button), the same
// routes any Odoo browser widget uses.

/** RPCError carries the server's error object; message is data.message. */
export class RPCError extends Error {
  constructor(error) {
    const data = (error && error.data) || {};
    super(data.message || (error && error.message) || 'Unknown error');
    this.name = 'RPCError';
    this.code = error && error.code;
    this.data = data;
    this.exceptionName = data.name || '';
    // A short title for error boxes: "Validation Error" for
    // odoo.exceptions.ValidationError and the like.
    const short = this.exceptionName.split('.').pop() || '';
    this.title = short.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^Exception$/, 'Server Error');
  }
}

/** ConnectionError is a failed request: no answer, or not JSON. */
export class ConnectionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ConnectionError';
    this.title = 'Connection lost';
  }
}

const SESSION_EXPIRED = 100;
let nextId = 1;
let expiredHandler = () => {
  const back = location.pathname === '/web' ? location.hash : '';
  location.assign('/web/login' + (back ? '?redirect=' + encodeURIComponent('/web' + back) : ''));
};

/** onSessionExpired replaces what happens on error code 100 (default: go to the login page). */
export function onSessionExpired(fn) {
  expiredHandler = fn;
}

/**
 * jsonrpc posts a JSON-RPC "call" to url and resolves to its result
 * (undefined when the server sent none), or rejects with RPCError /
 * ConnectionError. Code 100 (session expired) also calls the handler.
 */
export async function jsonrpc(url, params = {}, { signal } = {}) {
  let resp;
  try {
    resp = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params, id: nextId++ }),
      signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ConnectionError('The server cannot be reached.');
  }
  let body;
  try {
    body = await resp.json();
  } catch {
    throw new ConnectionError(`The server answered ${resp.status} ${resp.statusText || ''}`.trim() + '.');
  }
  if (body && body.error) {
    const err = new RPCError(body.error);
    if (err.code === SESSION_EXPIRED) expiredHandler(err);
    throw err;
  }
  return body ? body.result : undefined;
}

// The user context, merged into every call_kw (the ORM context is exactly
// kwargs.context, §2.4).
let userContext = {};

/** setUserContext sets the context every ORM call carries. */
export function setUserContext(ctx) {
  userContext = { ...(ctx || {}) };
}

function withContext(kwargs) {
  return { ...kwargs, context: { ...userContext, ...(kwargs && kwargs.context) } };
}

/** callKw calls an ORM method: /web/dataset/call_kw/<model>/<method>. */
export function callKw(model, method, args = [], kwargs = {}, opts) {
  return jsonrpc(`/web/dataset/call_kw/${model}/${method}`, { model, method, args, kwargs: withContext(kwargs) }, opts);
}

/** callButton calls a button method; resolves to an action dict or false. */
export function callButton(model, method, args = [], kwargs = {}, opts) {
  return jsonrpc('/web/dataset/call_button', { model, method, args, kwargs: withContext(kwargs) }, opts);
}

/** The ORM calls the views use, with Odoo 16's signatures. */
export const orm = {
  fieldsGet: (model) => callKw(model, 'fields_get', [], { attributes: ['type', 'string', 'help', 'required', 'readonly', 'relation', 'relation_field', 'related', 'selection', 'sortable', 'store', 'exportable', 'searchable'] }),
  searchRead: (model, domain, fields, { offset = 0, limit = 0, order = false } = {}) =>
    callKw(model, 'search_read', [], { domain, fields, offset, limit, order }),
  webSearchRead: (model, domain, fields, { offset = 0, limit = 80, order = false } = {}) =>
    callKw(model, 'web_search_read', [], { domain, fields, offset, limit, order }),
  search: (model, domain, kwargs = {}) => callKw(model, 'search', [domain], kwargs),
  searchCount: (model, domain, kwargs = {}) => callKw(model, 'search_count', [domain], kwargs),
  read: (model, ids, fields) => callKw(model, 'read', [ids, fields]),
  readGroup: (model, domain, fields, groupby, { orderby = false, lazy = true } = {}) =>
    callKw(model, 'read_group', [], { domain, fields, groupby, orderby, lazy }),
  create: (model, vals) => callKw(model, 'create', [vals]),
  write: (model, ids, vals) => callKw(model, 'write', [ids, vals]),
  unlink: (model, ids) => callKw(model, 'unlink', [ids]),
  nameSearch: (model, name = '', domain = [], limit = 100) =>
    callKw(model, 'name_search', [], { name, args: domain, operator: 'ilike', limit }),
  defaultGet: (model, fields) => callKw(model, 'default_get', [fields]),
  canDo: (model, operation) => callKw(model, 'check_access_rights', [operation], { raise_exception: false }),
};

/** The session routes. */
export const session = {
  info: () => jsonrpc('/web/session/get_session_info', {}),
  authenticate: (db, login, password) => jsonrpc('/web/session/authenticate', { db, login, password }),
  destroy: () => jsonrpc('/web/session/destroy', {}),
  databases: () => jsonrpc('/web/database/list', {}),
  versionInfo: () => jsonrpc('/web/webclient/version_info', {}),
};
