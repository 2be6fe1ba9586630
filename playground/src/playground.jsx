// The campus-photo playground: GraphiQL served by the binary (bundled by build.rs with esbuild),
// with a fetcher that speaks the GraphQL multipart request spec for uploads and
// graphql-transport-ws for subscriptions, an "Examples" plugin listing playground/examples/ and a
// "Files" plugin to attach files to Upload variables.
import React, { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { useEditorContext, usePluginContext } from '@graphiql/react';
import { createClient } from 'graphql-ws';
import { parse } from 'graphql';
import 'graphiql/graphiql.css';
import './playground.css';

// The server names its endpoints on the page's root element.
const ROOT = document.getElementById('graphiql');
const HTTP_URL = new URL(ROOT.dataset.endpoint || '/graphql', window.location.href).toString();
const WS_URL = new URL(ROOT.dataset.subscriptionEndpoint || '/graphql/ws', window.location.href)
  .toString()
  .replace(/^http/, 'ws');

// ---- files attached to Upload variables -------------------------------------------------------

/** `[{ path: "variables.i.file", file: File }]`, shared by the Files plugin and the fetcher. */
const attachments = {
  list: [],
  listeners: new Set(),
  set(list) {
    this.list = list;
    this.listeners.forEach((l) => l(list));
  },
};

function useAttachments() {
  const [list, setList] = useState(attachments.list);
  useEffect(() => {
    attachments.listeners.add(setList);
    return () => attachments.listeners.delete(setList);
  }, []);
  return list;
}

/** Sets `obj.a.b.c = null` for the path `variables.a.b.c` (creating objects on the way). */
function setNullAt(operations, path) {
  const keys = path.split('.');
  let node = operations;
  for (let i = 0; i < keys.length - 1; i += 1) {
    const key = keys[i];
    if (node[key] === undefined || node[key] === null || typeof node[key] !== 'object') {
      node[key] = /^\d+$/.test(keys[i + 1]) ? [] : {};
    }
    node = node[key];
  }
  node[keys[keys.length - 1]] = null;
}

// ---- the fetcher -------------------------------------------------------------------------------

function headerValue(headers, name) {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

function operationKind(query, operationName) {
  try {
    const doc = parse(query);
    const ops = doc.definitions.filter((d) => d.kind === 'OperationDefinition');
    const op = operationName ? ops.find((o) => o.name && o.name.value === operationName) : ops[0];
    return op ? op.operation : 'query';
  } catch {
    return 'query';
  }
}

function operationName(query) {
  try {
    const op = parse(query).definitions.find((d) => d.kind === 'OperationDefinition');
    return op && op.name ? op.name.value : null;
  } catch {
    return null;
  }
}

let ws = null;
let wsAuth = null;

function wsClient(authorization) {
  if (ws && wsAuth === authorization) return ws;
  if (ws) ws.dispose();
  wsAuth = authorization;
  // The server reads the token from connection_init: {"authorization": "Bearer <token>"}.
  ws = createClient({
    url: WS_URL,
    lazy: true,
    retryAttempts: 3,
    connectionParams: () => (authorization ? { authorization } : {}),
  });
  return ws;
}

/** Called with each sign-in token a response carries, so the Headers tab can take it. */
let onToken = () => {};

function noticeToken(result) {
  const data = result && result.data;
  if (!data || typeof data !== 'object') return;
  for (const field of ['signInWithWeChat', 'signInStaff']) {
    const token = data[field] && data[field].token;
    if (typeof token === 'string' && token) onToken(token);
  }
}

async function fetcher(params, opts) {
  const headers = { ...((opts && opts.headers) || {}) };
  const authorization = headerValue(headers, 'authorization');
  if (operationKind(params.query, params.operationName) === 'subscription') {
    return wsClient(authorization).iterate({
      query: params.query,
      variables: params.variables || undefined,
      operationName: params.operationName || undefined,
    });
  }
  const files = attachments.list.filter((a) => a.file && a.path);
  let body;
  if (files.length > 0 && operationKind(params.query, params.operationName) === 'mutation') {
    // GraphQL multipart request spec: operations, map, then the files.
    const operations = JSON.parse(JSON.stringify(params));
    if (!operations.variables) operations.variables = {};
    const map = {};
    files.forEach((a, i) => {
      setNullAt(operations, a.path);
      map[String(i)] = [a.path];
    });
    body = new FormData();
    body.append('operations', JSON.stringify(operations));
    body.append('map', JSON.stringify(map));
    files.forEach((a, i) => body.append(String(i), a.file, a.file.name));
  } else {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(params);
  }
  const response = await fetch(HTTP_URL, { method: 'POST', headers, body });
  const text = await response.text();
  let result;
  try {
    result = JSON.parse(text);
  } catch {
    result = { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] };
  }
  noticeToken(result);
  return result;
}

// ---- examples -----------------------------------------------------------------------------------

/**
 * An example file: leading `#` comments describe it; a `# Variables:` line is followed by
 * commented JSON; `# Upload: variables.i.file` lines name the Upload variables.
 */
function parseExample(file, text) {
  const lines = text.split('\n');
  const description = [];
  const variables = [];
  const uploads = [];
  let inVariables = false;
  for (const line of lines) {
    if (!line.startsWith('#')) break;
    const body = line.replace(/^#\s?/, '');
    if (/^Variables:/i.test(body)) {
      inVariables = true;
      continue;
    }
    const upload = body.match(/^Upload:\s*(\S+)/i);
    if (upload) {
      uploads.push(upload[1]);
      inVariables = false;
      continue;
    }
    if (inVariables) {
      if (body.trim() === '') inVariables = false;
      else variables.push(body);
      continue;
    }
    description.push(body);
  }
  const title = file.replace(/\.graphql$/, '').replace(/^(\d+)-/, '$1 ').replace(/-/g, ' ');
  return {
    file,
    title,
    description: description.join('\n').trim(),
    variables: pretty(variables.join('\n').trim()),
    uploads,
    query: text,
  };
}

function pretty(json) {
  try {
    return json ? JSON.stringify(JSON.parse(json), null, 2) : '';
  } catch {
    return json;
  }
}

let examplesPromise = null;
function loadExamples() {
  if (!examplesPromise) {
    examplesPromise = fetch('/playground/examples.json')
      .then((r) => r.json())
      .then((list) => list.map((e) => parseExample(e.file, e.text)));
  }
  return examplesPromise;
}

function useExamples() {
  const [examples, setExamples] = useState([]);
  useEffect(() => {
    loadExamples().then(setExamples, () => setExamples([]));
  }, []);
  return examples;
}

/** Shows the Variables or Headers tab under the query editor. */
function showTool(name) {
  const tab = [...document.querySelectorAll('.graphiql-editor-tools button')].find(
    (b) => b.textContent.trim() === name,
  );
  if (tab && !tab.classList.contains('active')) tab.click();
}

function applyExample(editors, example) {
  const { queryEditor, variableEditor } = editors;
  if (queryEditor) {
    queryEditor.setValue(example.query);
    // GraphiQL learns the operation name from the editor after a debounce; a run right after
    // loading must not send the previous query's name.
    queryEditor.operationName = operationName(example.query);
  }
  if (variableEditor) variableEditor.setValue(example.variables || '');
  showTool(example.variables ? 'Variables' : 'Headers');
  if (example.uploads.length > 0) {
    const kept = attachments.list.filter((a) => example.uploads.includes(a.path) && a.file);
    const missing = example.uploads
      .filter((p) => !kept.some((a) => a.path === p))
      .map((path) => ({ path, file: null }));
    attachments.set([...kept, ...missing]);
  }
}

function ExamplesPanel() {
  const examples = useExamples();
  const editors = useEditorContext({ nonNull: true });
  const plugins = usePluginContext();
  return (
    <div className="cp-panel">
      <div className="graphiql-doc-explorer-title">Examples</div>
      <p className="cp-hint">
        The student flow, then the staff flow, in order. Sign-in responses put their token in the
        Headers tab for you.
      </p>
      <ol className="cp-examples">
        {examples.map((e) => (
          <li key={e.file}>
            <button
              type="button"
              className="cp-example"
              data-example={e.file}
              title={e.description}
              onClick={() => {
                applyExample(editors, e);
                if (e.uploads.length > 0 && plugins) plugins.setVisiblePlugin('Files');
              }}
            >
              {e.title}
            </button>
            {e.description ? <div className="cp-desc">{e.description.replace(/\n/g, ' ')}</div> : null}
          </li>
        ))}
      </ol>
    </div>
  );
}

function FilesPanel() {
  const list = useAttachments();
  const [path, setPath] = useState('variables.input.file');
  const update = (i, change) => attachments.set(list.map((a, j) => (i === j ? { ...a, ...change } : a)));
  return (
    <div className="cp-panel">
      <div className="graphiql-doc-explorer-title">Files</div>
      <p className="cp-hint">
        Mutations with files go out as GraphQL multipart requests: each file below replaces the
        variable at its path (for example <code>variables.input.file</code>).
      </p>
      {list.map((a, i) => (
        <div className="cp-file" key={`${a.path}-${i}`}>
          <code>{a.path}</code>
          <input
            type="file"
            aria-label={`file for ${a.path}`}
            onChange={(ev) => update(i, { file: ev.target.files && ev.target.files[0] ? ev.target.files[0] : null })}
          />
          <span className="cp-file-name">{a.file ? `${a.file.name} (${a.file.size} bytes)` : 'no file chosen'}</span>
          <button type="button" onClick={() => attachments.set(list.filter((_, j) => j !== i))}>
            remove
          </button>
        </div>
      ))}
      <form
        className="cp-add"
        onSubmit={(ev) => {
          ev.preventDefault();
          if (path.trim()) attachments.set([...list, { path: path.trim(), file: null }]);
        }}
      >
        <input value={path} onChange={(ev) => setPath(ev.target.value)} aria-label="variable path" />
        <button type="submit">add</button>
      </form>
    </div>
  );
}

const EXAMPLES_PLUGIN = {
  title: 'Examples',
  icon: () => <span className="cp-icon">Ex</span>,
  content: ExamplesPanel,
};

const FILES_PLUGIN = {
  title: 'Files',
  icon: () => {
    const n = useAttachments().filter((a) => a.file).length;
    return <span className="cp-icon">{n > 0 ? `F${n}` : 'F'}</span>;
  },
  content: FilesPanel,
};

/** Connects the fetcher's sign-in tokens and `?example=` to the editors; renders nothing. */
function EditorBridge() {
  const editors = useEditorContext({ nonNull: true });
  const { headerEditor, queryEditor, variableEditor } = editors;
  useEffect(() => {
    onToken = (token) => {
      if (!headerEditor) return;
      let headers = {};
      try {
        headers = JSON.parse(headerEditor.getValue() || '{}') || {};
      } catch {
        headers = {};
      }
      headers.Authorization = `Bearer ${token}`;
      headerEditor.setValue(JSON.stringify(headers, null, 2));
      showTool('Headers');
    };
    return () => {
      onToken = () => {};
    };
  }, [headerEditor]);
  useEffect(() => {
    const wanted = new URLSearchParams(window.location.search).get('example');
    if (!wanted || !queryEditor || !variableEditor) return;
    loadExamples().then((examples) => {
      const e = examples.find((x) => x.file === wanted || x.file.replace(/\.graphql$/, '') === wanted || x.file.startsWith(`${wanted}-`));
      if (e) applyExample({ queryEditor, variableEditor }, e);
    });
  }, [queryEditor, variableEditor]);
  return null;
}

const DEFAULT_QUERY = `# campus-photo playground: open "Examples" (left) for the student and staff flows.
# Sign in with an example, and the token lands in the Headers tab below.
query ServiceInfo {
  serviceInfo { agreementTitle agreementVersion }
}
`;

function App() {
  return (
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={DEFAULT_QUERY}
      defaultHeaders="{}"
      shouldPersistHeaders
      isHeadersEditorEnabled
      defaultEditorToolsVisibility="headers"
      plugins={[EXAMPLES_PLUGIN, FILES_PLUGIN]}
      visiblePlugin={EXAMPLES_PLUGIN}
      toolbar={{ additionalContent: <EditorBridge /> }}
    />
  );
}

createRoot(ROOT).render(<App />);
