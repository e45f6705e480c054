// bootstrap.js — ferry's runtime for node functions (nodejs18.x, nodejs20.x, nodejs22.x).
//
// It talks to the Lambda Runtime API that ferry serves for this one execution
// environment (AWS_LAMBDA_RUNTIME_API): loads the handler named by _HANDLER from
// LAMBDA_TASK_ROOT as ../shared/spec/pipeline.md §8 says (CommonJS or ES modules),
// then loops: GET /next, call the handler, POST /response or /error.
// Written for ferry from the spec; embedded in the ferry binary.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');

const API = process.env.AWS_LAMBDA_RUNTIME_API || '';
const PREFIX = '/2018-06-01/runtime';
const TASK_ROOT = process.env.LAMBDA_TASK_ROOT || process.cwd();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const [apiHost, apiPort] = API.split(':');

let currentRequestId;

// console lines carry the time, the request id and the level, as Lambda's do
for (const [name, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'],
                             ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE']]) {
  const stream = level === 'INFO' || level === 'DEBUG' ? process.stdout : process.stderr;
  console[name] = (...args) => {
    const text = util.format(...args);
    stream.write(`${new Date().toISOString()}\t${currentRequestId || 'undefined'}\t${level}\t${text}\n`);
  };
}

function call(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = http.request({
      host: apiHost, port: apiPort, method, path: PREFIX + p, agent,
      headers: Object.assign(data ? { 'Content-Type': 'application/json',
                                      'Content-Length': data.length } : {}, headers || {}),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
                                    body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

class HandlerError extends Error {
  constructor(type, message) { super(message); this.errorType = type; this.name = type; }
}

function errorJson(err) {
  const e = err instanceof Error ? err : new Error(typeof err === 'string' ? err : util.inspect(err));
  const stack = typeof e.stack === 'string' ? e.stack.split('\n').slice(1).map((l) => l.trim()) : [];
  return { errorType: e.errorType || e.name || 'Error', errorMessage: e.message || '',
           stackTrace: stack };
}

function nearestType(dir) {
  for (let d = dir; ; d = path.dirname(d)) {
    const pj = path.join(d, 'package.json');
    if (fs.existsSync(pj)) {
      try { return JSON.parse(fs.readFileSync(pj, 'utf8')).type || 'commonjs'; }
      catch (_) { return 'commonjs'; }
    }
    if (d === path.dirname(d) || d.length < TASK_ROOT.length) return 'commonjs';
  }
}

function isFile(p) {
  try { return fs.statSync(p).isFile(); } catch (_) { return false; }
}

async function loadModule(base, moduleName) {
  try {
    if (isFile(base)) return require(base);
    if (isFile(base + '.js')) {
      if (nearestType(path.dirname(base)) === 'module') return await import(pathToFileURL(base + '.js').href);
      return require(base + '.js');
    }
    if (isFile(base + '.mjs')) return await import(pathToFileURL(base + '.mjs').href);
    if (isFile(base + '.cjs')) return require(base + '.cjs');
    const resolved = require.resolve(moduleName, { paths: [TASK_ROOT, path.dirname(base)] });
    return require(resolved);
  } catch (e) {
    if (e instanceof SyntaxError) throw new HandlerError('Runtime.UserCodeSyntaxError', `${e.name}: ${e.message}`);
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND'))
      throw new HandlerError('Runtime.ImportModuleError', `Error: Cannot find module '${moduleName}'`);
    throw e;
  }
}

async function loadHandler(handlerString) {
  if (!handlerString || handlerString.includes('..'))
    throw new HandlerError('Runtime.MalformedHandlerName', `'${handlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`);
  const slash = handlerString.lastIndexOf('/');
  const root = slash >= 0 ? handlerString.slice(0, slash) : '';
  const rest = slash >= 0 ? handlerString.slice(slash + 1) : handlerString;
  const m = /^([^.]*)\.(.*)$/.exec(rest);
  if (!m) throw new HandlerError('Runtime.MalformedHandlerName', 'Bad handler');
  const [, moduleName, property] = m;
  const mod = await loadModule(path.resolve(TASK_ROOT, root, moduleName), moduleName);
  let fn = mod;
  for (const part of property.split('.')) {
    fn = fn == null ? undefined : fn[part];
    if (fn === undefined && mod && mod.default && part === property.split('.')[0]) fn = mod.default[part];
  }
  if (typeof fn !== 'function')
    throw new HandlerError('Runtime.HandlerNotFound', `${rest} is undefined or not exported`);
  return fn;
}

function makeContext(headers, deadline) {
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function runHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let done = false;
    const callback = (err, result) => {
      if (done) return;
      done = true;
      if (err !== undefined && err !== null) reject(err); else resolve(result);
    };
    context.done = callback;
    context.succeed = (r) => callback(null, r);
    context.fail = (e) => callback(e || new Error('handled'));
    try {
      const r = handler(event, context, callback);
      if (r && typeof r.then === 'function') r.then((v) => callback(null, v), (e) => callback(e === undefined || e === null ? new Error(String(e)) : e));
      else if (handler.length < 3) callback(null, r);
    } catch (e) {
      callback(e);
    }
  });
}

async function main() {
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER);
  } catch (e) {
    const body = errorJson(e);
    console.error(`${body.errorType}: ${body.errorMessage}`);
    await call('POST', '/init/error', JSON.stringify(body), { 'Lambda-Runtime-Function-Error-Type': body.errorType });
    process.exit(1);
  }
  for (;;) {
    const next = await call('GET', '/invocation/next');
    if (next.status !== 200) process.exit(0);
    const id = next.headers['lambda-runtime-aws-request-id'];
    const deadline = Number(next.headers['lambda-runtime-deadline-ms']) || Date.now() + 3000;
    currentRequestId = id;
    let event;
    try { event = JSON.parse(next.body); } catch (_) { event = next.body; }
    const context = makeContext(next.headers, deadline);
    try {
      const result = await runHandler(handler, event, context);
      const text = JSON.stringify(result === undefined ? null : result);
      await call('POST', `/invocation/${id}/response`, text === undefined ? 'null' : text);
    } catch (e) {
      const body = errorJson(e);
      console.error(`Invoke Error \t${JSON.stringify(body)}`);
      await call('POST', `/invocation/${id}/error`, JSON.stringify(body), { 'Lambda-Runtime-Function-Error-Type': 'Unhandled' });
    }
  }
}

process.on('unhandledRejection', (e) => { throw e; });
main().catch((e) => { process.stderr.write(`ferry node runtime: ${e && e.stack || e}\n`); process.exit(1); });
