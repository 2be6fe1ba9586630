// 审核台: the reviewers' dashboard. Plain JavaScript over the public GraphQL API: POST /graphql
// for queries and mutations, graphql-transport-ws on /graphql/ws for queueStats and
// productionProgress. No framework, no build step.
'use strict';

const HTTP_URL = '/graphql';
const WS_URL = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql/ws`;
const TOKEN_KEY = 'campus-photo.dashboard.token';

const $ = (selector, root = document) => root.querySelector(selector);

let token = sessionStorage.getItem(TOKEN_KEY);
let viewer = null;
let socket = null;
let reasons = [];
let stopStats = null;
let stopBatch = null;

// ---- GraphQL over HTTP -----------------------------------------------------------------------

async function gql(query, variables = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(HTTP_URL, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors && body.errors.length > 0) {
    const error = new Error(body.errors.map((e) => e.message).join('; '));
    error.code = body.errors[0].extensions && body.errors[0].extensions.code;
    throw error;
  }
  return body.data;
}

/** A payload's userErrors as one message, or null. */
function userErrors(payload) {
  const errors = (payload && payload.userErrors) || [];
  return errors.length ? errors.map((e) => `${e.message} (${e.code})`).join('; ') : null;
}

// ---- graphql-transport-ws --------------------------------------------------------------------

/** One socket for all subscriptions; reconnects with back-off and subscribes again. */
class Socket {
  constructor(authToken) {
    this.token = authToken;
    this.subs = new Map();
    this.nextId = 1;
    this.ready = false;
    this.closed = false;
    this.retry = 0;
    this.connect();
  }

  connect() {
    const ws = new WebSocket(WS_URL, 'graphql-transport-ws');
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${this.token}` } }));
    };
    ws.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      const sub = message.id ? this.subs.get(message.id) : null;
      switch (message.type) {
        case 'connection_ack':
          this.ready = true;
          this.retry = 0;
          setLive(true);
          for (const [id, s] of this.subs) this.send(id, s);
          break;
        case 'ping':
          ws.send(JSON.stringify({ type: 'pong' }));
          break;
        case 'next':
          if (sub) {
            if (message.payload.errors) sub.onError(message.payload.errors);
            else sub.onData(message.payload.data);
          }
          break;
        case 'error':
          if (sub) {
            this.subs.delete(message.id);
            sub.onError(message.payload);
          }
          break;
        case 'complete':
          if (sub) {
            this.subs.delete(message.id);
            if (sub.onComplete) sub.onComplete();
          }
          break;
        default:
          break;
      }
    };
    ws.onclose = (event) => {
      this.ready = false;
      setLive(false);
      if (this.closed) return;
      if (event.code === 4403) {
        signOut('Your session ended; sign in again.');
        return;
      }
      const delay = Math.min(30000, 500 * 2 ** this.retry);
      this.retry += 1;
      setTimeout(() => {
        if (!this.closed) this.connect();
      }, delay);
    };
  }

  send(id, sub) {
    this.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query: sub.query, variables: sub.variables } }));
  }

  subscribe(query, variables, handlers) {
    const id = String(this.nextId);
    this.nextId += 1;
    const sub = { query, variables, ...handlers };
    this.subs.set(id, sub);
    if (this.ready) this.send(id, sub);
    return () => {
      if (this.subs.delete(id) && this.ready) this.ws.send(JSON.stringify({ id, type: 'complete' }));
    };
  }

  close() {
    this.closed = true;
    this.ws.close(1000);
  }
}

function setLive(on) {
  const live = $('#live');
  live.textContent = on ? 'live' : 'offline';
  live.className = on ? 'live on' : 'live off';
}

// ---- sign-in ----------------------------------------------------------------------------------

async function signIn(username, password) {
  const data = await gql(
    `mutation($input: SignInStaffInput!) { signInStaff(input: $input) { token userErrors { code message } } }`,
    { input: { username, password } },
  );
  const problem = userErrors(data.signInStaff);
  if (problem) throw new Error(problem);
  token = data.signInStaff.token;
  sessionStorage.setItem(TOKEN_KEY, token);
}

function signOut(message) {
  if (token) gql('mutation { signOut }').catch(() => {});
  token = null;
  viewer = null;
  sessionStorage.removeItem(TOKEN_KEY);
  if (socket) socket.close();
  socket = null;
  stopStats = null;
  stopBatch = null;
  $('#tasks').replaceChildren();
  for (const status of ['#claim-status', '#batch-status', '#batch-counts', '#stats-at']) $(status).textContent = '';
  for (const cell of document.querySelectorAll('#stats [data-stat]')) cell.textContent = '–';
  $('#batch').hidden = true;
  $('#work').hidden = true;
  $('#who').hidden = true;
  $('#signin').hidden = false;
  $('#signin-error').textContent = message || '';
}

async function start() {
  const data = await gql(
    `{ viewer { account { id role username school { code name } } }
       rejectionReasons { code message } }`,
  );
  if (!data.viewer || data.viewer.account.role === 'STUDENT') {
    signOut(data.viewer ? 'This page is for staff accounts.' : '');
    return;
  }
  viewer = data.viewer.account;
  reasons = data.rejectionReasons;
  $('#who-name').textContent = `${viewer.username} · ${viewer.role}${viewer.school ? ` · ${viewer.school.name}` : ''}`;
  $('#school').value = viewer.school ? viewer.school.code : '';
  $('#school').disabled = Boolean(viewer.school);
  $('#signin').hidden = true;
  $('#who').hidden = false;
  $('#work').hidden = false;
  socket = new Socket(token);
  watchStats();
}

function schoolCode() {
  const value = $('#school').value.trim();
  return value === '' ? null : value;
}

// ---- queue stats --------------------------------------------------------------------------------

const STATS = `subscription($schoolCode: String) {
  queueStats(schoolCode: $schoolCode) {
    pendingPayment pendingReview claimed rejected pendingProduction inProduction completed at
  }
}`;

function watchStats() {
  if (stopStats) stopStats();
  stopStats = socket.subscribe(STATS, { schoolCode: schoolCode() }, {
    onData(data) {
      const stats = data.queueStats;
      for (const cell of document.querySelectorAll('#stats [data-stat]')) {
        const value = stats[cell.dataset.stat];
        if (cell.textContent !== String(value)) {
          cell.textContent = String(value);
          cell.classList.remove('changed');
          // Restart the highlight animation.
          void cell.offsetWidth;
          cell.classList.add('changed');
        }
      }
      $('#stats-at').textContent = new Date(stats.at).toLocaleTimeString();
    },
    onError(errors) {
      $('#stats-at').textContent = `error: ${describe(errors)}`;
    },
  });
}

function describe(errors) {
  if (Array.isArray(errors)) return errors.map((e) => e.message).join('; ');
  return String((errors && errors.message) || errors);
}

// ---- review -------------------------------------------------------------------------------------

const CLAIM = `mutation($input: ClaimReviewTasksInput!) {
  claimReviewTasks(input: $input) {
    orders {
      id number statusLabel manualReview manualReviewNote
      enrollment { name college major school { name } project { name } }
      photo {
        url previewUrl width height
        check { verdict issues { code severity message } measures { name value min max } }
      }
    }
    userErrors { code message }
  }
}`;

const REVIEW = `mutation($input: ReviewOrderInput!) {
  reviewOrder(input: $input) {
    order { id status statusLabel rejection { code message } }
    userErrors { code field message }
  }
}`;

async function claim() {
  const status = $('#claim-status');
  status.textContent = 'claiming…';
  try {
    const count = Math.max(1, Math.min(20, Number($('#claim-count').value) || 1));
    const data = await gql(CLAIM, { input: { schoolCode: schoolCode(), count } });
    const problem = userErrors(data.claimReviewTasks);
    if (problem) throw new Error(problem);
    const orders = data.claimReviewTasks.orders;
    const shown = new Set([...document.querySelectorAll('.task')].map((t) => t.dataset.orderId));
    for (const order of orders) if (!shown.has(order.id)) $('#tasks').append(renderTask(order));
    status.textContent = orders.length ? `${orders.length} claimed (5 minutes each)` : 'nothing waiting for review';
  } catch (error) {
    status.textContent = error.message;
  }
}

function formatNumber(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

function renderTask(order) {
  const node = $('#task-template').content.firstElementChild.cloneNode(true);
  node.dataset.orderId = order.id;
  node.dataset.orderNumber = order.number;
  const photo = order.photo;
  $('.photo', node).src = photo.previewUrl || photo.url;
  $('.original', node).href = photo.url;
  $('.number', node).textContent = order.number;
  $('.name', node).textContent = order.enrollment.name;
  $('.meta', node).textContent = [order.enrollment.school.name, order.enrollment.college, order.enrollment.major, `${photo.width}×${photo.height}`]
    .filter(Boolean)
    .join(' · ');
  const verdict = $('.verdict', node);
  verdict.textContent = photo.check.verdict === 'PASSED' ? '初审合格 passed' : '初审不合格 failed';
  verdict.className = `verdict ${photo.check.verdict.toLowerCase()}`;
  // The student asked a person to overrule the automatic check: say so before anything else.
  if (order.manualReview) {
    verdict.textContent = `${order.manualReviewNote} (manual review requested)`;
    verdict.className = 'verdict manual-review';
  }
  for (const issue of photo.check.issues) {
    const li = document.createElement('li');
    li.textContent = `${issue.severity} ${issue.code}: ${issue.message}`;
    $('.issues', node).append(li);
  }
  for (const m of photo.check.measures) {
    const tr = document.createElement('tr');
    const out = (m.min !== null && m.value < m.min) || (m.max !== null && m.value > m.max);
    if (out) tr.className = 'out';
    for (const text of [m.name, formatNumber(m.value), m.min === null ? '' : formatNumber(m.min), m.max === null ? '' : formatNumber(m.max)]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    $('.measures tbody', node).append(tr);
  }
  const select = $('.reason', node);
  for (const reason of reasons) {
    const option = document.createElement('option');
    option.value = reason.code;
    option.textContent = `${reason.code} · ${reason.message}`;
    select.append(option);
  }
  $('.approve', node).addEventListener('click', () => decide(node, { decision: 'APPROVE' }));
  $('.reject', node).addEventListener('click', () => {
    const note = $('.note', node).value.trim();
    decide(node, { decision: 'REJECT', reasonCode: select.value, message: note === '' ? null : note });
  });
  return node;
}

async function decide(node, decision) {
  const outcome = $('.outcome', node);
  const buttons = node.querySelectorAll('button');
  buttons.forEach((b) => {
    b.disabled = true;
  });
  outcome.textContent = 'saving…';
  try {
    const data = await gql(REVIEW, { input: { orderId: node.dataset.orderId, ...decision } });
    const problem = userErrors(data.reviewOrder);
    if (problem) throw new Error(problem);
    const order = data.reviewOrder.order;
    outcome.textContent = order.rejection ? `${order.statusLabel}: ${order.rejection.message}` : order.statusLabel;
    node.classList.add('done', order.status.toLowerCase());
    node.dataset.status = order.status;
    setTimeout(() => node.remove(), 4000);
  } catch (error) {
    outcome.textContent = error.message;
    buttons.forEach((b) => {
      b.disabled = false;
    });
  }
}

// ---- production -----------------------------------------------------------------------------

const START_BATCH = `mutation($input: StartProductionBatchInput!) {
  startProductionBatch(input: $input) { batch { id total done failed finished } userErrors { code message } }
}`;

const PROGRESS = `subscription($batchId: ID!) {
  productionProgress(batchId: $batchId) { batch { id total done failed finished } }
}`;

function showBatch(batch) {
  $('#batch').hidden = false;
  const progress = $('#batch-progress');
  progress.max = Math.max(1, batch.total);
  progress.value = batch.done + batch.failed;
  $('#batch-counts').textContent = `${batch.done} done, ${batch.failed} failed of ${batch.total}${batch.finished ? ' · finished' : ' · running'}`;
}

function watchBatch(batchId) {
  if (stopBatch) stopBatch();
  $('#batch-id').value = batchId;
  $('#batch-status').textContent = 'watching…';
  stopBatch = socket.subscribe(PROGRESS, { batchId }, {
    onData(data) {
      showBatch(data.productionProgress.batch);
    },
    onError(errors) {
      $('#batch-status').textContent = describe(errors);
    },
    onComplete() {
      $('#batch-status').textContent = 'batch finished';
    },
  });
}

async function startBatch() {
  $('#batch-status').textContent = 'starting…';
  try {
    const data = await gql(START_BATCH, { input: { schoolCode: schoolCode() } });
    const problem = userErrors(data.startProductionBatch);
    if (problem) throw new Error(problem);
    showBatch(data.startProductionBatch.batch);
    watchBatch(data.startProductionBatch.batch.id);
  } catch (error) {
    $('#batch-status').textContent = error.message;
  }
}

// ---- wiring -------------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('#signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('#signin-error').textContent = '';
    try {
      await signIn($('#username').value.trim(), $('#password').value);
      await start();
    } catch (error) {
      $('#signin-error').textContent = error.message;
    }
  });
  $('#sign-out').addEventListener('click', () => signOut());
  $('#claim').addEventListener('click', claim);
  $('#start-batch').addEventListener('click', startBatch);
  $('#watch-batch').addEventListener('click', () => {
    const id = $('#batch-id').value.trim();
    if (id) watchBatch(id);
  });
  $('#school').addEventListener('change', () => {
    if (socket) watchStats();
  });
  if (token) {
    start().catch((error) => signOut(error.code === 'UNAUTHENTICATED' ? 'Your session ended; sign in again.' : error.message));
  }
});
