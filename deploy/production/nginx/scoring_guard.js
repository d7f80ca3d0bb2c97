// The scoring endpoint's guard (docs/serving.md): refuses, with a 4xx in MLflow's error shape, the
// requests that `mlflow models serve` would answer 500 to (no Content-Type, JSON nested past
// Python's recursion limit) or silently misread (unknown top-level fields or params, NaN literals),
// then hands the untouched body to the scorer. Lead records themselves are validated by the model.

// A request is at most {"dataframe_split": {"data": [[value]]}}: 4 levels; a nested field value is
// the model's to refuse. Far below the ~1,000 at which Python's json module raises RecursionError.
const MAX_DEPTH = 8;
const REQUEST_FIELDS = ['dataframe_records', 'dataframe_split', 'params'];
// The model signature's params (held equal to it by assets_tests/test_serving_proxy.py).
const PARAMS = ['reasons'];
const PASSED_AS_IS = ['text/csv'];  // no nesting, no params: the model validates every record

function refuse(r, status, errorCode, message) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(status, JSON.stringify({error_code: errorCode, message: message}));
}

function nestingDepth(text) {
    // Brackets outside strings; stops counting once past the limit.
    let depth = 0, deepest = 0, inString = false, escaped = false;
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (inString) {
            if (escaped) { escaped = false; } else if (c === 92) { escaped = true; } else if (c === 34) { inString = false; }
        } else if (c === 34) {
            inString = true;
        } else if (c === 123 || c === 91) {
            depth += 1;
            if (depth > deepest) { deepest = depth; }
            if (depth > MAX_DEPTH) { return depth; }
        } else if (c === 125 || c === 93) {
            depth -= 1;
        }
    }
    return deepest;
}

function isObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function quoted(names) {
    return names.map((n) => `'${n}'`).join(', ');
}

function invocations(r) {
    if (r.method !== 'POST') {
        return refuse(r, 405, 'METHOD_NOT_ALLOWED', 'POST lead records to /invocations');
    }
    const type = (r.headersIn['Content-Type'] || '').split(';')[0].trim().toLowerCase();
    if (PASSED_AS_IS.includes(type)) {
        return r.internalRedirect('@scorer');
    }
    if (type !== 'application/json') {
        return refuse(r, 415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json (or text/csv), `
                      + `got '${r.headersIn['Content-Type'] || ''}'`);
    }
    let text;
    try {
        text = new TextDecoder('utf-8', {fatal: true}).decode(r.requestBuffer || '');
    } catch (e) {
        return refuse(r, 400, 'BAD_REQUEST', 'the body is not UTF-8 text');
    }
    if (nestingDepth(text) > MAX_DEPTH) {
        return refuse(r, 400, 'BAD_REQUEST', `the JSON is nested deeper than ${MAX_DEPTH} levels; `
                      + 'send {"dataframe_records": [{"field": value, ...}, ...]}');
    }
    let body;
    try {
        body = JSON.parse(text);
    } catch (e) {
        return refuse(r, 400, 'BAD_REQUEST', `the body is not valid JSON (NaN and Infinity are not JSON): ${e.message}`);
    }
    if (!isObject(body)) {
        return refuse(r, 400, 'BAD_REQUEST', 'the body must be a JSON object: {"dataframe_records": [...]}');
    }
    const unknown = Object.keys(body).filter((k) => !REQUEST_FIELDS.includes(k));
    if (unknown.length) {
        return refuse(r, 400, 'INVALID_PARAMETER_VALUE', `unknown request field(s) ${quoted(unknown)}: `
                      + `the request takes ${quoted(REQUEST_FIELDS)}`);
    }
    if ('params' in body) {
        if (!isObject(body.params)) {
            return refuse(r, 400, 'INVALID_PARAMETER_VALUE', `'params' must be an object, e.g. {"reasons": "exact"}`);
        }
        const unknownParams = Object.keys(body.params).filter((k) => !PARAMS.includes(k));
        if (unknownParams.length) {
            return refuse(r, 400, 'INVALID_PARAMETER_VALUE', `unknown param(s) ${quoted(unknownParams)}: `
                          + `the endpoint takes ${quoted(PARAMS)}`);
        }
    }
    r.internalRedirect('@scorer');
}

export default {invocations};
