'use strict';
// The developer console: walks one old-platform account through the migration
// API (docs/CONTRACT.md §2) on the same origin. No framework, no build step: each
// screen is a function that fetches what it shows and renders it into <main>.
(function () {
  var TEXTS = JSON.parse(document.getElementById('texts').textContent);
  var params = new URLSearchParams(location.search);
  var PAGE = Math.max(1, Math.min(1000, parseInt(params.get('pageSize'), 10) || 50));
  var POLL_MS = 1000;
  var S = { token: null, claims: null, lang: pickLang(), screen: null, redraw: null, gen: 0, migId: null };
  var main = document.getElementById('main');

  // ---- language -------------------------------------------------------------------
  function pickLang() {
    var saved = store('local', 'console.lang');
    if (saved === 'en' || saved === 'zh') return saved;
    var l = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
    return /^zh/i.test(l) ? 'zh' : 'en';
  }
  function t(key, vars) {
    var s = TEXTS[S.lang][key];
    if (s === undefined) s = TEXTS.en[key];
    if (s === undefined) s = key;
    return s.replace(/\{(\w+)\}/g, function (_, k) { return vars && vars[k] !== undefined ? String(vars[k]) : ''; });
  }
  function errorText(code) {
    var e = TEXTS.errors[code] || TEXTS.errors.UNKNOWN;
    return e[S.lang];
  }
  function word(group, value) {
    var k = group + '.' + value;
    return TEXTS[S.lang][k] !== undefined ? t(k) : value;
  }
  function applyLang() {
    document.documentElement.lang = S.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('app.title');
    var b = document.getElementById('lang');
    b.textContent = S.lang === 'zh' ? 'English' : '中文';
    b.lang = S.lang === 'zh' ? 'en' : 'zh-CN';
    b.setAttribute('aria-label', t('lang.switch'));
    document.getElementById('brand').textContent = t('app.title');
    document.getElementById('signout').textContent = t('signout');
    document.querySelector('.skip').textContent = t('skip');
    document.getElementById('steps-nav').setAttribute('aria-label', t('steps.label'));
    renderWho();
  }

  // ---- storage (may be unavailable: private modes) ---------------------------------
  function store(kind, k, v) {
    try {
      var st = kind === 'local' ? localStorage : sessionStorage;
      if (v === undefined) return st.getItem(k);
      if (v === null) st.removeItem(k); else st.setItem(k, v);
    } catch (e) { /* the console still works, it only forgets */ }
    return null;
  }
  function migKey() { return 'console.migration.' + S.claims.platform + ':' + S.claims.sub; }
  // Subjects seen in the plan, remembered: once a batch has moved, the plan no
  // longer lists it, but the overview still names its subject.
  function remember(subjects) {
    var m = knownSubjects();
    (subjects || []).forEach(function (s) { if (s && s.id) m[s.id] = { id: s.id, name: s.name, kind: s.kind }; });
    store('local', 'console.subjects', JSON.stringify(m));
    return m;
  }
  function knownSubjects() {
    try { return JSON.parse(store('local', 'console.subjects') || '{}') || {}; } catch (e) { return {}; }
  }

  // ---- DOM ------------------------------------------------------------------------
  function h(tag, attrs) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, v);
    }
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function add(el, c) {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(el, x); }); return; }
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  function button(label, onclick, cls, extra) {
    var a = { type: 'button', 'class': cls, onclick: onclick };
    for (var k in extra || {}) a[k] = extra[k];
    return h('button', a, label);
  }
  function kv(pairs) {
    var dl = h('dl', { 'class': 'kv' });
    pairs.forEach(function (p) { if (p) { add(dl, h('dt', {}, p[0])); add(dl, h('dd', {}, p[1])); } });
    return dl;
  }
  function counts(c) {
    var ul = h('ul', { 'class': 'counts' });
    ['apps', 'services', 'identities', 'members', 'data', 'orders'].forEach(function (k) {
      if (c && c[k]) add(ul, h('li', {}, t('count.' + k, { n: c[k] })));
    });
    return ul;
  }

  // show makes a screen current: the heading takes focus so keyboard and screen
  // reader users start there, and the steps list marks where the account is.
  function show(name, title, nodes) {
    S.screen = name;
    main.textContent = '';
    var h1 = h('h1', { id: 'title', tabindex: '-1' }, title);
    add(main, [h1, h('div', { id: 'alert', role: 'alert' }), nodes]);
    main.setAttribute('data-screen', name);
    main.removeAttribute('data-done');
    main.removeAttribute('data-state');
    main.setAttribute('aria-busy', 'false');
    document.body.setAttribute('data-screen', name);
    renderSteps(name);
    h1.focus();
    // When the first screen was ready, for the page's own timing (the browser test reads it).
    if (window.performance && performance.mark && !performance.getEntriesByName('console:first-screen').length) performance.mark('console:first-screen');
  }
  function busy(name, redraw) {
    S.gen++;
    if (redraw) S.redraw = redraw;
    main.setAttribute('aria-busy', 'true');
    main.setAttribute('data-screen', name + '-loading');
    if (!main.querySelector('.spinner')) add(main, h('p', { 'class': 'spinner', role: 'status' }, t('loading')));
    return S.gen;
  }
  var STEPS = ['signin', 'assets', 'plan', 'agreement', 'review', 'target', 'confirm', 'progress', 'done'];
  function renderSteps(name) {
    var ol = document.getElementById('steps');
    ol.textContent = '';
    STEPS.forEach(function (s) {
      add(ol, h('li', { 'aria-current': s === name ? 'step' : null }, t('step.' + s)));
    });
  }
  function renderWho() {
    var who = document.getElementById('who');
    var out = document.getElementById('signout');
    who.hidden = out.hidden = !S.claims;
    if (S.claims) who.textContent = t('signedin', { login: S.claims.login || S.claims.sub, platform: word('platform', S.claims.platform) });
  }

  // ---- errors ---------------------------------------------------------------------
  // showError puts the error's message in words into the screen's alert; a
  // retry button repeats the same action (with the same Idempotency-Key).
  function showError(err, retry) {
    var box = document.getElementById('alert') || main;
    var code = (err && err.code) || 'UNKNOWN';
    if (code === 'UNAUTHORIZED') return signOut(code);
    box.textContent = '';
    var detail = err && err.requestId ? t('error.request', { id: err.requestId }) : '';
    add(box, h('div', { 'class': 'alert', 'data-code': code },
      h('p', {}, h('strong', {}, errorText(code))),
      err && err.message ? h('p', { 'class': 'muted' }, err.message) : null,
      detail ? h('p', { 'class': 'muted' }, detail) : null,
      retry ? h('div', { 'class': 'actions' }, button(t('retry'), retry, 'secondary')) : null));
    main.setAttribute('aria-busy', 'false');
    if (!main.querySelector('h1')) add(main, h('h1', { tabindex: '-1' }, t('error.title')));
  }
  // action runs one user action under a fresh Idempotency-Key; "try again"
  // reuses that key, so a retry after a lost answer never acts twice.
  function action(fn) {
    var key = newKey();
    var run = function () {
      return fn(key).catch(function (e) { showError(e, run); });
    };
    return run();
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }

  // ---- API ------------------------------------------------------------------------
  function api(method, path, body, key) {
    var headers = { Accept: 'application/json' };
    if (S.token) headers.Authorization = 'Bearer ' + S.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (key) headers['Idempotency-Key'] = key;
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' })
      .catch(function () { throw { code: 'NETWORK' }; })
      .then(function (res) {
        return res.text().then(function (raw) {
          var data = null;
          try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
          if (res.ok) return { status: res.status, data: data };
          var e = (data && data.error) || {};
          // API Gateway's own authorizer answers {"message":"Unauthorized"}.
          var code = e.code || (res.status === 401 ? 'UNAUTHORIZED' : res.status === 403 ? 'FORBIDDEN' : res.status === 404 ? 'ROUTE_NOT_FOUND' : 'UNKNOWN');
          throw { status: res.status, code: code, message: e.message || (data && data.message), requestId: e.requestId };
        });
      });
  }
  function get(path) { return api('GET', path).then(function (r) { return r.data; }); }
  function migPath(b) { return '/v1/migrations/' + enc(S.migId) + (b ? '/batches/' + enc(b) : ''); }
  function enc(s) { return encodeURIComponent(s); }

  // ---- sign-in --------------------------------------------------------------------
  function decodeClaims(tok) {
    var p = String(tok).split('.');
    if (p.length !== 3) return null;
    try {
      var js = atob(p[1].replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((p[1].length + 3) % 4));
      return JSON.parse(decodeURIComponent(escape(js)));
    } catch (e) { return null; }
  }
  function signIn(tok) {
    var claims = decodeClaims(tok.trim());
    if (!claims || !claims.sub || !claims.platform) return showError({ code: 'TOKEN_UNREADABLE' });
    S.token = tok.trim();
    S.claims = claims;
    store('session', 'console.token', S.token);
    renderWho();
    home();
  }
  function signOut(reason) {
    S.token = S.claims = null;
    store('session', 'console.token', null);
    renderWho();
    screenSignIn(reason);
  }

  function screenSignIn(reason) {
    var g = busy('signin', function () { screenSignIn(reason); });
    var paste = h('form', { 'class': 'card', onsubmit: function (ev) { ev.preventDefault(); signIn(document.getElementById('token').value); } },
      h('h2', {}, t('signin.token.title')),
      h('p', { 'class': 'muted' }, t('signin.token.help')),
      h('div', { 'class': 'field' }, h('label', { 'for': 'token' }, t('signin.token.label')),
        h('textarea', { id: 'token', rows: '4', autocomplete: 'off', spellcheck: 'false', required: true })),
      h('button', { type: 'submit' }, t('signin.token.submit')));
    // The development sign-in exists only on the local stack (its API Gateway
    // stand-in serves /local/*); on AWS the request is a 404 and only the
    // token field shows.
    return api('GET', '/local/accounts').then(function (r) { return r.data.accounts || []; }, function () { return null; })
      .then(function (accounts) {
        if (g !== S.gen) return;
        var dev = null;
        if (accounts) {
          dev = h('section', { 'class': 'card', 'aria-labelledby': 'dev-title' },
            h('h2', { id: 'dev-title' }, t('signin.dev.title')),
            h('p', { 'class': 'muted' }, t('signin.dev.help')),
            h('ul', { 'class': 'cards' }, accounts.map(function (a) {
              return h('li', { 'class': 'option' }, button(t('signin.dev.as', { login: a.login }), function () { devSignIn(a); }, 'secondary', { 'data-account': a.platform + ':' + a.accountId }),
                h('span', { 'class': 'muted' }, word('platform', a.platform) + ' · ' + a.accountId));
            })));
        }
        show('signin', t('signin.title'), [
          reason ? h('div', { 'class': 'alert', 'data-code': reason }, h('p', {}, h('strong', {}, errorText(reason)))) : null,
          h('p', {}, t('signin.intro')), dev, paste]);
      });
  }
  function devSignIn(a) {
    api('POST', '/local/token', { platform: a.platform, accountId: a.accountId })
      .then(function (r) { signIn(r.data.token); }, function (e) { showError(e); });
  }

  // ---- home: resume where the account stands -------------------------------------
  function home() {
    busy('assets');
    var id = store('local', migKey());
    if (!id) return screenAssets();
    S.migId = id;
    return get(migPath()).then(function () { screenOverview(); }, function (e) {
      if (e.code === 'UNAUTHORIZED') return showError(e);
      store('local', migKey(), null); // gone or not ours: start from the account
      S.migId = null;
      screenAssets();
    });
  }

  function allAssets() {
    var acc = null;
    var step = function (cursor, n) {
      return get('/v1/assets?limit=1000' + (cursor ? '&cursor=' + enc(cursor) : '')).then(function (d) {
        if (!acc) acc = d;
        else ['apps', 'services', 'identities', 'memberships', 'data', 'orders', 'skipped'].forEach(function (k) { acc[k] = acc[k].concat(d[k] || []); });
        return d.nextCursor && n < 50 ? step(d.nextCursor, n + 1) : acc;
      });
    };
    return step('', 0);
  }

  function screenAssets() {
    var g = busy('assets', screenAssets);
    return allAssets().then(function (d) {
      if (g !== S.gen) return;
      if (!d.eligible) return screenNoMigration(d);
      var subj = {};
      (d.subjects || []).forEach(function (s) { subj[s.id] = s; });
      var sections = [
        h('section', { 'class': 'card' }, h('h2', {}, t('assets.account')), accountKV(d.account)),
        itemSection('assets.apps', d.apps, function (a) { return a.name + ' · ' + word('kind', a.kind) + ' · ' + subjectName(subj, a.subjectId); }),
        itemSection('assets.services', d.services, function (a) { return a.name + ' · ' + subjectName(subj, a.subjectId); }),
        itemSection('assets.identities', d.identities, function (a) { return word('kind', a.kind) + ' · ' + subjectName(subj, a.subjectId); }),
        itemSection('assets.memberships', d.memberships, function (m) { return (m.appName || m.appId) + ' · ' + word('role', m.role); }),
        itemSection('assets.data', d.data, function (x) { return x.id + ' · ' + word('kind', x.kind); }),
        itemSection('assets.orders', d.orders, function (o) { return orderText(o); })
      ];
      var skipped = d.skipped || [];
      sections.push(h('section', { 'class': 'card', id: 'skipped' }, h('h2', {}, t('assets.skipped', { n: skipped.length })),
        skipped.length ? h('p', { 'class': 'muted' }, t('assets.skipped.help')) : h('p', {}, t('assets.skipped.none')),
        skipped.length ? h('ul', { 'class': 'items' }, skipped.map(function (s) {
          return h('li', { 'data-reason': s.reason }, word('type', s.type) + ' ' + s.id + ': ' + word('skip', s.reason));
        })) : null));
      show('assets', t('assets.title'), [h('p', {}, t('assets.intro')), sections,
        h('div', { 'class': 'actions' }, button(t('assets.next'), screenPlan))]);
    }, function (e) { showError(e, screenAssets); });
  }
  function accountKV(a) {
    return kv([[t('field.login'), a.login], [t('field.platform'), word('platform', a.platform)], [t('field.accountId'), a.accountId]]);
  }
  function subjectName(map, id) {
    if (!id) return t('subject.none');
    if (id === 'personal') return t('subject.personal');
    return map[id] ? map[id].name : id;
  }
  function orderText(o) {
    return o.id + ' · ' + (o.amountCents / 100).toFixed(2) + ' ' + (o.currency || '') + ' · ' + word('order', o.status);
  }
  function itemSection(key, list, line) {
    list = list || [];
    return h('section', { 'class': 'card' }, h('h2', {}, t(key, { n: list.length })),
      list.length ? h('ul', { 'class': 'items' }, list.map(function (x) { return h('li', {}, line(x)); })) : h('p', { 'class': 'muted' }, t('none')));
  }

  function screenNoMigration(d) {
    show('nomigration', t('nomig.title'), [
      h('div', { 'class': 'ok' }, h('p', {}, h('strong', {}, t('nomig.lead')))),
      h('p', {}, t('nomig.body')),
      h('ul', {}, h('li', {}, h('a', { href: 'https://developer.open-douyin.com/' }, t('platform.developer'))),
        h('li', {}, h('a', { href: 'https://partner.open-douyin.com/' }, t('platform.partner')))),
      d && d.account ? h('section', { 'class': 'card' }, h('h2', {}, t('assets.account')), accountKV(d.account)) : null]);
  }

  // ---- plan -----------------------------------------------------------------------
  function screenPlan() {
    var g = busy('plan', screenPlan);
    return get('/v1/plan').then(function (p) {
      if (g !== S.gen) return;
      if (!p.eligible) return screenNoMigration(null);
      remember(p.batches.map(function (b) { return b.subject; }));
      show('plan', t('plan.title'), [
        h('p', {}, t('plan.intro', { n: p.batches.length })),
        h('ul', { 'class': 'cards' }, p.batches.map(function (b) {
          return h('li', { 'class': 'card', 'data-batch': b.batchKey },
            h('h2', {}, subjectTitle(b.subject)),
            kv([[t('field.subjectKind'), word('subjectKind', b.subject.kind)], [t('field.target'), word('platform', b.targetPlatform)]]),
            counts(b.counts));
        })),
        h('div', { 'class': 'actions' }, button(t('plan.start'), startMigration), button(t('back'), screenAssets, 'secondary'))]);
    }, function (e) { showError(e, screenPlan); });
  }
  function subjectTitle(s) {
    if (!s || s.id === 'personal') return t('subject.personal');
    return s.name || s.id;
  }
  function startMigration() {
    action(function (key) {
      busy('plan');
      return api('POST', '/v1/migrations', {}, key).then(function (r) {
        S.migId = r.data.migrationId;
        store('local', migKey(), S.migId);
        return screenOverview(r.status === 200 ? 'overview.resumed' : null);
      });
    });
  }

  // ---- the migration's batches ----------------------------------------------------
  function screenOverview(noteKey) {
    var g = busy('overview', function () { screenOverview(); });
    return Promise.all([get(migPath()), get('/v1/plan').catch(function () { return { batches: [] }; })]).then(function (r) {
      if (g !== S.gen) return;
      var m = r[0], known = remember(r[1].batches.map(function (b) { return b.subject; })), subjects = {};
      m.batches.forEach(function (b) { subjects[b.batchKey] = known[b.subjectId]; });
      S.mig = m;
      var again = m.state === 'COMPLETED' && m.batches.some(function (b) { return b.state === 'FAILED' || b.state === 'EXPIRED'; });
      show('overview', t('overview.title'), [
        noteKey ? h('p', { 'class': 'note' }, t(noteKey)) : null,
        h('p', {}, t('overview.state', { state: word('mstate', m.state) })),
        h('ul', { 'class': 'cards' }, m.batches.map(function (b) { return batchCard(b, subjects); })),
        again ? h('div', { 'class': 'note' }, h('p', {}, t('overview.again')), button(t('overview.again.button'), screenPlan, 'secondary')) : null,
        h('div', { 'class': 'actions' }, button(t('refresh'), function () { screenOverview(); }, 'secondary'))]);
    }, function (e) { showError(e, function () { screenOverview(); }); });
  }
  function batchCard(b, subjects) {
    var s = subjects[b.batchKey] || { id: b.subjectId };
    var next = {
      ACCEPT_AGREEMENT: [t('next.agreement'), function () { screenAgreement(b.batchId); }],
      SELECT_TARGET: [t('next.review'), function () { screenReview(b.batchId); }],
      CONFIRM: [t('next.confirm'), function () { screenConfirm(b.batchId); }],
      WAIT: [t('next.progress'), function () { screenProgress(b.batchId); }],
      VIEW_TARGET: [t('next.done'), function () { screenDone(b.batchId); }]
    }[b.nextAction];
    return h('li', { 'class': 'card', 'data-batch': b.batchKey, 'data-state': b.state },
      h('h2', {}, subjectTitle(s) + ' → ' + word('platform', b.targetPlatform)),
      h('p', {}, h('span', { 'class': 'state ' + b.state }, word('state', b.state)), ' ', t('hint.' + b.state)),
      b.error ? h('div', { 'class': 'alert', 'data-code': b.error.code }, h('p', {}, h('strong', {}, errorText(b.error.code))), b.error.message ? h('p', { 'class': 'muted' }, b.error.message) : null) : null,
      b.expiresAt && !/COMMIT|FAILED|EXPIRED/.test(b.state) ? h('p', { 'class': 'muted' }, t('expires', { at: new Date(b.expiresAt).toLocaleString(S.lang === 'zh' ? 'zh-CN' : 'en') })) : null,
      counts(b.counts),
      next ? h('div', { 'class': 'actions' }, button(next[0], next[1], null, { 'data-action': b.nextAction })) : null);
  }
  function batchOf(id) {
    return get(migPath()).then(function (m) {
      S.mig = m;
      for (var i = 0; i < m.batches.length; i++) if (m.batches[i].batchId === id) return m.batches[i];
      throw { code: 'NOT_FOUND' };
    });
  }
  function toOverview() { return button(t('overview.back'), function () { screenOverview(); }, 'secondary'); }

  // ---- agreement ------------------------------------------------------------------
  // GET /v1/agreement records the view; accepting is offered only once the
  // full text is on screen.
  function screenAgreement(bid) {
    var g = busy('agreement', function () { screenAgreement(bid); });
    return get('/v1/agreement').then(function (ag) {
      if (g !== S.gen) return;
      var box = h('input', { type: 'checkbox', id: 'agree' });
      var accept = button(t('agreement.accept'), function () { acceptAgreement(bid, ag); }, null, { id: 'accept', disabled: true });
      box.addEventListener('change', function () { accept.disabled = !box.checked; });
      show('agreement', t('agreement.title'), [
        h('p', {}, t('agreement.intro')),
        h('p', { 'class': 'muted' }, t('agreement.version', { version: ag.version, sha: ag.sha256.slice(0, 12) })),
        h('div', { 'class': 'agreement', tabindex: '0', role: 'region', 'aria-label': t('agreement.text'), id: 'agreement-text' }, ag.text),
        h('div', { 'class': 'check' }, box, h('label', { 'for': 'agree' }, t('agreement.check'))),
        h('div', { 'class': 'actions' }, accept, toOverview())]);
    }, function (e) { showError(e, function () { screenAgreement(bid); }); });
  }
  function acceptAgreement(bid, ag) {
    action(function (key) {
      busy('agreement');
      return api('POST', migPath(bid) + '/agreement', { version: ag.version, sha256: ag.sha256 }, key)
        .then(function () { return screenReview(bid); });
    });
  }

  // ---- review (all seven kinds, paginated) ----------------------------------------
  function screenReview(bid, cursors) {
    cursors = cursors || [''];
    var cur = cursors[cursors.length - 1];
    var g = busy('review', function () { screenReview(bid, cursors); });
    return get(migPath(bid) + '?limit=' + PAGE + (cur ? '&cursor=' + enc(cur) : '')).then(function (r) {
      if (g !== S.gen) return;
      var subj = {};
      if (r.subject) subj[r.subject.id] = r.subject;
      var apps = (r.apps || []).concat(r.services || []);
      var idn = r.identities && r.identities.length ? r.identities : (r.identity ? [r.identity] : []);
      // Headings count this page's items when the review has several pages.
      var paged = cursors.length > 1 || !!r.nextCursor;
      var pager = h('div', { 'class': 'pager' },
        h('span', { id: 'page' }, t('review.page', { n: cursors.length })),
        cursors.length > 1 ? button(t('review.prev'), function () { screenReview(bid, cursors.slice(0, -1)); }, 'secondary') : null,
        r.nextCursor ? button(t('review.next'), function () { screenReview(bid, cursors.concat([r.nextCursor])); }, 'secondary', { id: 'next-page' }) : null);
      var cont = r.state === 'AWAITING_TARGET' ? button(t('review.toTarget'), function () { screenTarget(bid); })
        : r.state === 'AWAITING_CONFIRMATION' ? button(t('next.confirm'), function () { screenConfirm(bid); }) : null;
      show('review', t('review.title'), [
        h('p', {}, t('review.intro')),
        h('section', { 'class': 'card', 'data-kind': 'account' }, h('h2', {}, t('review.account')), accountKV(r.account)),
        h('section', { 'class': 'card', 'data-kind': 'subject' }, h('h2', {}, t('review.subject')),
          r.subject ? kv([[t('field.name'), r.subject.name], [t('field.subjectKind'), word('subjectKind', r.subject.kind)], [t('field.certified'), r.subject.certified ? t('yes') : t('no')]]) : h('p', {}, t('subject.personal')),
          h('p', {}, t('field.target') + ': ' + word('platform', r.targetPlatform))),
        kindSection('apps', paged, apps, function (a) { return a.name + ' · ' + word('kind', a.kind) + ' · ' + a.id; }),
        kindSection('identity', paged, idn, function (a) { return word('kind', a.kind) + ' · ' + a.id; }),
        kindSection('members', paged, r.members, function (m) { return (m.appName || m.appId) + ' · ' + m.accountId + ' · ' + word('role', m.role); }),
        kindSection('data', paged, r.data, function (x) { return x.id + ' · ' + word('kind', x.kind) + (x.assetId ? ' · ' + x.assetId : ''); }),
        kindSection('orders', paged, r.orders, orderText),
        pager,
        h('div', { 'class': 'actions' }, cont, toOverview())]);
    }, function (e) { showError(e, function () { screenReview(bid, cursors); }); });
  }
  function kindSection(kind, paged, list, line) {
    list = list || [];
    var n = paged ? t('review.onPage', { n: list.length }) : list.length;
    return h('section', { 'class': 'card', 'data-kind': kind }, h('h2', {}, t('review.' + kind, { n: n })),
      list.length ? h('ul', { 'class': 'items' }, list.map(function (x) { return h('li', {}, line(x)); })) : h('p', { 'class': 'muted' }, t('review.none')));
  }

  // ---- target ---------------------------------------------------------------------
  function screenTarget(bid, refusal) {
    var g = busy('target', function () { screenTarget(bid, refusal); });
    return Promise.all([get(migPath(bid) + '/targets'), batchOf(bid)]).then(function (r) {
      if (g !== S.gen) return;
      var tg = r[0], b = r[1];
      var opts = tg.existing.map(function (a, i) {
        var id = 'target-' + i;
        return h('div', { 'class': 'option' }, h('input', { type: 'radio', name: 'target', id: id, value: a.accountId, checked: i === 0 }),
          h('label', { 'for': id }, h('strong', {}, a.accountId), ' · ' + a.login + ' · ' + t('onboarding.' + a.onboarding)));
      });
      if (tg.newAllowed) {
        opts.push(h('div', { 'class': 'option' }, h('input', { type: 'radio', name: 'target', id: 'target-new', value: '', checked: !tg.existing.length }),
          h('label', { 'for': 'target-new' }, t('target.new', { platform: word('platform', b.targetPlatform) }))));
      }
      var form = h('form', { onsubmit: function (ev) { ev.preventDefault(); chooseTarget(bid, form); } },
        h('fieldset', {}, h('legend', {}, t('target.legend', { platform: word('platform', b.targetPlatform) })), opts),
        h('div', { 'class': 'actions' }, h('button', { type: 'submit' }, t('target.submit')), toOverview()));
      show('target', t('target.title'), [
        refusal ? h('div', { 'class': 'alert', 'data-code': refusal }, h('p', {}, h('strong', {}, errorText(refusal)))) : null,
        h('p', {}, t('target.intro')),
        h('p', { 'class': 'note' }, tg.existing.length ? t('target.existingNote') : t('target.noneEligible')),
        form]);
    }, function (e) { showError(e, function () { screenTarget(bid); }); });
  }
  function chooseTarget(bid, form) {
    var picked = form.querySelector('input[name=target]:checked');
    if (!picked) return showError({ code: 'TARGET_REQUIRED' });
    var body = picked.value ? { mode: 'existing', accountId: picked.value } : { mode: 'new' };
    action(function (key) {
      return api('PUT', migPath(bid) + '/target', body, key).then(function () { return screenConfirm(bid); });
    });
  }

  // ---- confirmation (irreversible) ------------------------------------------------
  function screenConfirm(bid) {
    var g = busy('confirm', function () { screenConfirm(bid); });
    return Promise.all([batchOf(bid), get('/v1/plan').catch(function () { return { batches: [] }; })]).then(function (r) {
      if (g !== S.gen) return;
      var b = r[0], subject = knownSubjects()[b.subjectId] || { id: b.subjectId };
      r[1].batches.forEach(function (p) { if (p.batchKey === b.batchKey) subject = p.subject; });
      if (b.state !== 'AWAITING_CONFIRMATION') return screenOverview();
      var target = b.target && b.target.mode === 'new' ? t('confirm.newAccount') : (b.targetAccountId || (b.target && b.target.accountId));
      var box = h('input', { type: 'checkbox', id: 'understand' });
      var go = button(t('confirm.button'), function () { commit(bid, b); }, 'danger', { id: 'commit', disabled: true });
      box.addEventListener('change', function () { go.disabled = !box.checked; });
      show('confirm', t('confirm.title'), [
        h('div', { 'class': 'warn', id: 'warning' }, h('p', {}, h('strong', {}, t('confirm.warn.lead'))), h('p', {}, t('confirm.warn.body'))),
        h('section', { 'class': 'card' }, kv([[t('field.subject'), subjectTitle(subject)], [t('field.target'), word('platform', b.targetPlatform)], [t('field.targetAccount'), target]]), counts(b.counts)),
        h('div', { 'class': 'check' }, box, h('label', { 'for': 'understand' }, t('confirm.check'))),
        h('div', { 'class': 'actions' }, go, button(t('confirm.review'), function () { screenReview(bid); }, 'secondary'), toOverview())]);
    }, function (e) { showError(e, function () { screenConfirm(bid); }); });
  }
  function commit(bid, b) {
    action(function (key) {
      document.getElementById('commit').disabled = true;
      return api('POST', migPath(bid) + '/commit', { confirm: true }, key).then(function () {
        return screenProgress(bid);
      }, function (e) {
        // The point of no return refused the account: nothing moved, choose again.
        if (e.code === 'TARGET_NOT_ELIGIBLE') return screenTarget(bid, e.code);
        if (e.code === 'QUOTA_EXCEEDED') return refused(e);
        throw e;
      });
    });
  }
  function refused(e) {
    showError(e);
    var box = document.getElementById('alert');
    add(box.firstChild, [h('p', {}, t('confirm.failed')), h('div', { 'class': 'actions' }, toOverview())]);
    var chk = document.getElementById('understand');
    if (chk) chk.disabled = true;
    box.querySelector('button').focus();
  }

  // ---- progress -------------------------------------------------------------------
  function screenProgress(bid) {
    var g = busy('progress', function () { screenProgress(bid); });
    var bar = h('progress', { id: 'bar', max: '1', value: '0', 'aria-labelledby': 'bar-label' });
    var label = h('p', { id: 'bar-label', 'aria-live': 'polite' }, t('progress.starting'));
    var shown = false;
    var poll = function () {
      if (g !== S.gen) return; // the user went elsewhere: stop polling
      batchOf(bid).then(function (b) {
        if (g !== S.gen) return;
        if (!shown) {
          shown = true;
          show('progress', t('progress.title'), [h('p', {}, t('progress.intro')), label, bar, h('div', { 'class': 'actions' }, toOverview())]);
          main.setAttribute('data-screen', 'progress');
        }
        var p = b.progress || { moved: 0, total: 0 };
        bar.max = Math.max(1, p.total);
        bar.value = p.moved;
        label.textContent = t('progress.count', { moved: p.moved, total: p.total, state: word('state', b.state) });
        main.setAttribute('data-state', b.state);
        if (b.state === 'COMMITTED') {
          // No jump to another screen under the user's feet: offer the next one.
          var next = button(t('next.done'), function () { screenDone(bid); }, null, { id: 'see-target' });
          var row = main.querySelector('.actions');
          row.insertBefore(next, row.firstChild);
          main.setAttribute('data-done', 'true');
          return next.focus();
        }
        if (b.state !== 'COMMITTING') return screenOverview();
        setTimeout(poll, POLL_MS);
      }, function (e) {
        if (g !== S.gen) return;
        if (!shown) show('progress', t('progress.title'), []);
        showError(e, function () { screenProgress(bid); });
      });
    };
    poll();
  }

  // ---- done: what the target account holds ----------------------------------------
  function screenDone(bid) {
    var g = busy('done', function () { screenDone(bid); });
    return batchOf(bid).then(function (b) {
      return get('/v1/targets/' + enc(b.targetPlatform) + '/accounts/' + enc(b.targetAccountId) + '?limit=1000').then(function (acc) {
        if (g !== S.gen) return;
        var site = b.targetPlatform === 'partner' ? 'https://partner.open-douyin.com/' : 'https://developer.open-douyin.com/';
        show('done', t('done.title'), [
          h('div', { 'class': 'ok' }, h('p', {}, h('strong', {}, t('done.lead', { platform: word('platform', b.targetPlatform), account: acc.accountId })))),
          h('section', { 'class': 'card', id: 'target-account' }, h('h2', {}, t('done.account')),
            kv([[t('field.accountId'), acc.accountId], [t('field.login'), acc.login], [t('field.platform'), word('platform', acc.platform)],
              [t('field.onboarding'), t('onboarding.' + acc.onboarding)]])),
          itemSection('assets.apps', acc.apps, function (a) { return a.name + ' · ' + word('kind', a.kind); }),
          itemSection('assets.services', acc.services, function (a) { return a.name; }),
          itemSection('assets.identities', acc.identities, function (a) { return word('kind', a.kind) + ' · ' + a.id; }),
          itemSection('assets.memberships', acc.memberships, function (m) { return (m.appName || m.appId) + ' · ' + m.accountId + ' · ' + word('role', m.role); }),
          itemSection('assets.data', acc.data, function (x) { return x.id + ' · ' + word('kind', x.kind); }),
          itemSection('assets.orders', acc.orders, orderText),
          h('p', {}, t('done.signin'), ' ', h('a', { href: site }, word('platform', b.targetPlatform))),
          h('div', { 'class': 'actions' }, toOverview())]);
      });
    }).catch(function (e) { showError(e, function () { screenDone(bid); }); });
  }

  // ---- start ----------------------------------------------------------------------
  document.getElementById('lang').addEventListener('click', function () {
    S.lang = S.lang === 'zh' ? 'en' : 'zh';
    store('local', 'console.lang', S.lang);
    applyLang();
    // Redraw the current screen in the new language (it fetches afresh).
    if (S.screen === 'nomigration' || !S.redraw) screenAssets(); else S.redraw();
    document.getElementById('lang').focus();
  });
  document.getElementById('signout').addEventListener('click', function () { signOut(); });
  applyLang();
  var saved = store('session', 'console.token');
  if (saved && decodeClaims(saved)) { S.token = saved; S.claims = decodeClaims(saved); renderWho(); home(); } else screenSignIn();
}());
