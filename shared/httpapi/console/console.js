'use strict';
// The developer console: walks one old-platform account through the migration
// API (docs/CONTRACT.md §2) on the same origin. No framework, no build step: each
// screen is a function that fetches what it shows and renders it into <main>.
(function () {
  var TEXTS = JSON.parse(document.getElementById('texts').textContent);
  var params = new URLSearchParams(location.search);
  var PAGE = Math.max(1, Math.min(1000, parseInt(params.get('pageSize'), 10) || 50));
  var POLL_MS = 1000;
  var S = { token: null, claims: null, lang: pickLang(), screen: null, redraw: null, gen: 0, migId: null, keepFocus: null, names: {} };
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
  // tn is t for a count: "key.one" when n is 1 and the language has that form.
  function tn(key, n, vars) {
    var v = { n: n };
    for (var k in vars || {}) v[k] = vars[k];
    return t(n === 1 && TEXTS[S.lang][key + '.one'] !== undefined ? key + '.one' : key, v);
  }
  function errorText(code) {
    var e = TEXTS.errors[code] || TEXTS.errors.UNKNOWN;
    return e[S.lang];
  }
  function word(group, value) {
    var k = group + '.' + value;
    return TEXTS[S.lang][k] !== undefined ? t(k) : value;
  }
  function apiLang() { return S.lang === 'zh' ? 'zh-CN' : 'en'; }
  function applyLang() {
    document.documentElement.lang = apiLang();
    var b = document.getElementById('lang');
    b.textContent = S.lang === 'zh' ? 'English' : '中文';
    b.lang = S.lang === 'zh' ? 'en' : 'zh-CN';
    b.setAttribute('aria-label', t('lang.switch'));
    document.getElementById('brand').textContent = t('app.title');
    document.getElementById('signout').textContent = t('signout');
    document.querySelector('.skip').textContent = t('skip');
    document.getElementById('site-nav').setAttribute('aria-label', t('nav.label'));
    document.getElementById('nav-assets').textContent = t('nav.assets');
    document.getElementById('nav-overview').textContent = t('nav.overview');
    document.getElementById('nav-history').textContent = t('nav.history');
    document.getElementById('steps').setAttribute('aria-label', t('steps.label'));
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
  // Signing out leaves no name of the account in the browser: the subjects
  // and names it remembered go with the token. The language and the pointer
  // to the account's migration (ids only, so a sign-in resumes there) stay.
  function forget() {
    try {
      for (var i = localStorage.length - 1; i >= 0; i--) {
        var k = localStorage.key(i);
        if (k && k.indexOf('console.') === 0 && k !== 'console.lang' && k.indexOf('console.migration.') !== 0) localStorage.removeItem(k);
      }
    } catch (e) { /* storage unavailable: nothing was kept */ }
    S.names = {};
  }
  function migKey() { return 'console.migration.' + S.claims.platform + ':' + S.claims.sub; }
  // Subjects seen in the plan, remembered: once a batch has moved, the plan no
  // longer lists it, but every screen still names its subject.
  function remember(subjects) {
    var m = knownSubjects();
    (subjects || []).forEach(function (s) { if (s && s.id) m[s.id] = { id: s.id, name: s.name, kind: s.kind }; });
    store('local', 'console.subjects', JSON.stringify(m));
    return m;
  }
  function knownSubjects() {
    try { return JSON.parse(store('local', 'console.subjects') || '{}') || {}; } catch (e) { return {}; }
  }
  // Names of apps and services seen on any screen, so that data, orders and
  // members are shown with their app's name rather than its id.
  function learn(items) { (items || []).forEach(function (a) { if (a && a.id && a.name) S.names[a.id] = a.name; }); }
  function nameOf(id) { return S.names[id] || id; }

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
    pairs.forEach(function (p) { if (p && p[1]) { add(dl, h('dt', {}, p[0])); add(dl, h('dd', {}, p[1])); } });
    return dl;
  }
  function counts(c) {
    var ul = h('ul', { 'class': 'counts' });
    ['apps', 'services', 'identities', 'members', 'data', 'orders'].forEach(function (k) {
      if (c && c[k]) add(ul, h('li', {}, t('count.' + k, { n: c[k] })));
    });
    return ul;
  }

  // ---- addresses: one per screen ---------------------------------------------------
  // Each screen has its own address on the page's own path, ?screen=<name>
  // (&batch=<batchId> for a batch's steps), kept with the History API: Back and
  // Forward move between screens, and a reload stays where it was. GET / serves
  // every such address (the local stand-in and API Gateway's HTTP API route by
  // path, never by query), so they need no route of their own.
  var SCREENS = {};
  // A receipt may be of an earlier migration: its address names it (&migration=).
  function addr(name, bid, mid) {
    var q = new URLSearchParams(location.search);
    q.set('screen', name);
    if (bid) q.set('batch', bid); else q.delete('batch');
    if (mid) q.set('migration', mid); else q.delete('migration');
    return location.pathname + '?' + q.toString();
  }
  function go(name, bid, replace, mid) {
    var url = addr(name, bid, mid), st = { screen: name, batch: bid || null };
    if (replace || url === location.pathname + location.search) history.replaceState(st, '', url);
    else history.pushState(st, '', url);
    return SCREENS[name](bid);
  }
  function fromAddress() {
    var q = new URLSearchParams(location.search), name = q.get('screen'), bid = q.get('batch');
    if (!S.token) return go('signin', null, true);
    if (!name || !SCREENS[name] || name === 'signin' || name === 'nomigration') return home(true);
    var needsBatch = ['agreement', 'review', 'target', 'confirm', 'progress', 'done'].indexOf(name) >= 0;
    if ((needsBatch || name === 'overview') && !S.migId) return home(true);
    if (needsBatch && !bid) return go('overview', null, true);
    if (name === 'receipt' && !(bid && (q.get('migration') || S.migId))) return go('history', null, true);
    return SCREENS[name](bid);
  }
  window.addEventListener('popstate', function () { fromAddress(); });

  // show makes a screen current: the heading takes focus so keyboard and screen
  // reader users start there (unless the user's own control asked to keep it:
  // a language switch or a refresh redraws the screen under the same focus).
  function show(name, title, nodes) {
    S.screen = name;
    main.textContent = '';
    var h1 = h('h1', { id: 'title', tabindex: '-1' }, title);
    add(main, [h1, h('div', { id: 'alert' }), nodes]);
    main.setAttribute('data-screen', name);
    main.removeAttribute('data-done');
    main.removeAttribute('data-state');
    main.setAttribute('aria-busy', 'false');
    document.body.setAttribute('data-screen', name);
    document.title = title + ' · ' + t('app.title');
    renderSteps(name);
    renderNav(name);
    var keep = S.keepFocus && document.getElementById(S.keepFocus);
    S.keepFocus = null;
    if (keep) keep.focus(); else h1.focus();
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
  // The steps a batch goes through: where the account is, not links (the
  // navigation above them is).
  var STEPS = ['signin', 'assets', 'plan', 'agreement', 'review', 'target', 'confirm', 'progress', 'done'];
  function renderSteps(name) {
    var ol = document.getElementById('steps'), at = STEPS.indexOf(name); // none on the overview: its batches stand at different steps
    ol.textContent = '';
    ol.hidden = at < 0;
    STEPS.forEach(function (s, i) {
      add(ol, h('li', { 'aria-current': i === at ? 'step' : null, 'class': i < at ? 'past' : i === at ? 'now' : null },
        h('span', { 'class': 'n', 'aria-hidden': 'true' }, String(i + 1)), ' ',
        h('span', { 'class': 'sr' }, t('steps.of', { n: i + 1, total: STEPS.length }) + ' '), t('step.' + s)));
    });
  }
  function renderNav(name) {
    var nav = document.getElementById('site-nav');
    nav.hidden = !S.claims || name === 'signin';
    var ov = document.getElementById('nav-overview');
    ov.parentNode.hidden = !S.migId;
    if (name === 'moved' || name === 'nomigration') name = 'assets';
    [['nav-assets', 'assets'], ['nav-overview', 'overview'], ['nav-history', 'history']].forEach(function (p) {
      var a = document.getElementById(p[0]);
      a.setAttribute('href', addr(p[1]));
      if (name === p[1] || (name === 'receipt' && p[1] === 'history')) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    });
  }
  function renderWho() {
    var who = document.getElementById('who');
    var out = document.getElementById('signout');
    who.hidden = out.hidden = !S.claims;
    if (S.claims) who.textContent = t('signedin', { login: S.claims.login || S.claims.sub, platform: word('platform', S.claims.platform) });
  }

  // ---- errors ---------------------------------------------------------------------
  // showError shows one message, where the user is looking: next to the
  // control that acted (near), else under the heading; any earlier message
  // goes. A retry button repeats the same action (with the same Idempotency-Key).
  function showError(err, retry, near) {
    if (err && err.code === 'UNAUTHORIZED') return signOut(err.code);
    var box = alertFor(err, retry);
    placeAlert(box, near);
    main.setAttribute('aria-busy', 'false');
    if (!main.querySelector('h1')) main.insertBefore(h('h1', { tabindex: '-1' }, t('error.title')), main.firstChild);
    return box;
  }
  function alertFor(err, retry) {
    var code = (err && err.code) || 'UNKNOWN';
    var detail = err && err.requestId ? t('error.request', { id: err.requestId }) : '';
    return h('div', { 'class': 'alert', 'data-code': code, role: 'alert', tabindex: '-1' },
      h('p', {}, h('strong', {}, errorText(code))),
      err && err.message && code !== 'NETWORK' ? h('p', { 'class': 'muted' }, err.message) : null,
      detail ? h('p', { 'class': 'muted' }, detail) : null,
      retry ? h('div', { 'class': 'actions' }, button(t('retry'), retry, 'secondary')) : null);
  }
  function placeAlert(box, near) {
    [].slice.call(main.querySelectorAll('.alert:not(.batch-error)')).forEach(function (a) { a.parentNode.removeChild(a); });
    var spin = main.querySelector('.spinner');
    if (spin) spin.parentNode.removeChild(spin);
    if (near && near.parentNode && main.contains(near)) near.parentNode.insertBefore(box, near);
    else add(document.getElementById('alert') || main, box);
    if (box.scrollIntoView) box.scrollIntoView({ block: 'center' });
    box.focus({ preventScroll: true });
  }
  // action runs one user action under a fresh Idempotency-Key; "try again"
  // reuses that key, so a retry after a lost answer never acts twice.
  function action(fn, near) {
    var key = newKey();
    var run = function () {
      return fn(key).catch(function (e) { showError(e, run, near && near()); });
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
          throw problem(res, data);
        });
      });
  }
  function problem(res, data) {
    var e = (data && data.error) || {};
    // API Gateway's own authorizer answers {"message":"Unauthorized"}.
    var code = e.code || (res.status === 401 ? 'UNAUTHORIZED' : res.status === 403 ? 'FORBIDDEN' : res.status === 404 ? 'ROUTE_NOT_FOUND' : 'UNKNOWN');
    return { status: res.status, code: code, message: e.message || (data && data.message), requestId: e.requestId };
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
    if (!claims || !claims.sub || !claims.platform) return showError({ code: 'TOKEN_UNREADABLE' }, null, document.getElementById('token-submit'));
    S.token = tok.trim();
    S.claims = claims;
    S.reason = null;
    store('session', 'console.token', S.token);
    renderWho();
    home(true);
  }
  function signOut(reason) {
    S.token = S.claims = S.migId = null;
    S.reason = reason || null;
    store('session', 'console.token', null);
    forget();
    renderWho();
    go('signin', null, true);
  }

  SCREENS.signin = function () { return screenSignIn(S.reason); };
  function screenSignIn(reason) {
    var g = busy('signin', function () { screenSignIn(reason); });
    var paste = h('form', { 'class': 'card', id: 'token-form', onsubmit: function (ev) { ev.preventDefault(); signIn(document.getElementById('token').value); } },
      h('h2', {}, t('signin.token.title')),
      h('p', { 'class': 'muted' }, t('signin.token.help')),
      h('div', { 'class': 'field' }, h('label', { 'for': 'token' }, t('signin.token.label')),
        h('textarea', { id: 'token', rows: '4', autocomplete: 'off', spellcheck: 'false', required: true })),
      h('button', { type: 'submit', id: 'token-submit' }, t('signin.token.submit')));
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
            h('ul', { 'class': 'cards accounts' }, accounts.map(function (a) {
              return h('li', { 'class': 'account' }, button([t('signin.dev.as'), ' ', h('span', { 'class': 'login' }, a.login)], function () { devSignIn(a); }, 'secondary', { 'data-account': a.platform + ':' + a.accountId }),
                h('span', { 'class': 'muted' }, word('platform', a.platform) + ' · ' + a.accountId));
            })));
        }
        show('signin', t('signin.title'), [h('p', {}, t('signin.intro')), dev, paste]);
        if (reason) placeAlert(alertFor({ code: reason }), document.getElementById('token-form'));
      });
  }
  function devSignIn(a) {
    api('POST', '/local/token', { platform: a.platform, accountId: a.accountId })
      .then(function (r) { signIn(r.data.token); }, function (e) { showError(e); });
  }

  // ---- home: resume where the account stands -------------------------------------
  // A browser that does not remember the migration finds it in the history.
  function home(replace) {
    busy('assets');
    var id = store('local', migKey());
    return (id ? Promise.resolve(id) : get('/v1/migrations?limit=1').then(function (d) {
      var m = d.migrations[0];
      return m && m.state === 'IN_PROGRESS' ? m.migrationId : null;
    }, function () { return null; })).then(function (id) { return resume(id, replace); });
  }
  function resume(id, replace) {
    if (!id) return go('assets', null, replace);
    S.migId = id;
    store('local', migKey(), id);
    return get(migPath()).then(function () { go('overview', null, replace); }, function (e) {
      if (e.code === 'UNAUTHORIZED') return showError(e);
      store('local', migKey(), null); // gone or not ours: start from the account
      S.migId = null;
      go('assets', null, replace);
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

  SCREENS.assets = screenAssets;
  function screenAssets() {
    var g = busy('assets', screenAssets);
    return allAssets().then(function (d) {
      if (g !== S.gen) return;
      // Nothing left: an account that moved it all is shown so, and its history.
      if (!d.eligible) return get('/v1/migrations?limit=5').then(function (hd) {
        if (g !== S.gen) return;
        var moved = hd.migrations.some(function (m) { return m.batches.some(function (b) { return b.state === 'COMMITTED'; }); });
        return moved ? screenMoved(d) : screenNoMigration(d);
      }, function () { screenNoMigration(d); });
      var subj = {};
      (d.subjects || []).forEach(function (s) { subj[s.id] = s; });
      learn(d.apps); learn(d.services);
      var sections = [
        h('section', { 'class': 'card' }, h('h2', {}, t('assets.account')), accountKV(d.account)),
        itemSection('assets.apps', d.apps, function (a) { return a.name + ' · ' + word('kind', a.kind) + ' · ' + subjectName(subj, a.subjectId); }),
        itemSection('assets.services', d.services, function (a) { return a.name + ' · ' + subjectName(subj, a.subjectId); }),
        itemSection('assets.identities', d.identities, function (a) { return word('kind', a.kind) + ' · ' + subjectName(subj, a.subjectId); }),
        itemSection('assets.memberships', d.memberships, function (m) { return (m.appName || m.appId) + ' · ' + word('role', m.role); }),
        itemSection('assets.data', d.data, dataText),
        itemSection('assets.orders', d.orders, orderText)
      ];
      sections.push(skippedSection(d.skipped || []));
      show('assets', t('assets.title'), [h('p', {}, t('assets.intro')), sections,
        h('div', { 'class': 'actions' }, S.migId ? button(t('overview.back'), function () { go('overview'); }) : button(t('assets.next'), function () { go('plan'); }))]);
    }, function (e) { showError(e, screenAssets); });
  }
  function skippedSection(skipped) {
    return h('section', { 'class': 'card', id: 'skipped' }, h('h2', {}, t('assets.skipped', { n: skipped.length })),
      skipped.length ? h('p', { 'class': 'muted' }, t('assets.skipped.help')) : h('p', {}, t('assets.skipped.none')),
      skipped.length ? h('ul', { 'class': 'items' }, skipped.map(function (s) {
        return h('li', { 'data-reason': s.reason }, t('skipped.line', { type: word('type', s.type), name: s.name || nameOf(s.id), reason: word('skip', s.reason) }));
      })) : null);
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
    return t('order.line', { id: o.id, app: nameOf(o.assetId), amount: (o.amountCents / 100).toFixed(2) + ' ' + (o.currency || ''), status: word('order', o.status) });
  }
  function dataText(x) {
    return (x.assetId ? nameOf(x.assetId) + ' · ' : '') + word('kind', x.kind);
  }
  function itemSection(key, list, line, id) {
    list = list || [];
    return h('section', { 'class': 'card', id: id }, h('h2', {}, t(key, { n: list.length })),
      list.length ? h('ul', { 'class': 'items' }, list.map(function (x) { return h('li', {}, line(x)); })) : h('p', { 'class': 'muted' }, t('none')));
  }

  SCREENS.nomigration = function () { return screenAssets(); };
  function screenNoMigration(d) {
    show('nomigration', t('nomig.title'), [
      h('div', { 'class': 'ok' }, h('p', {}, h('strong', {}, t('nomig.lead')))),
      h('p', {}, t('nomig.body')),
      h('ul', {}, h('li', {}, h('a', { href: 'https://developer.open-douyin.com/' }, t('platform.developer'))),
        h('li', {}, h('a', { href: 'https://partner.open-douyin.com/' }, t('platform.partner')))),
      d && d.account ? h('section', { 'class': 'card' }, h('h2', {}, t('assets.account')), accountKV(d.account)) : null]);
  }

  SCREENS.moved = screenAssets;
  function screenMoved(d) {
    show('moved', t('moved.title'), [
      h('div', { 'class': 'ok' }, h('p', {}, h('strong', {}, t('moved.lead')))),
      h('p', {}, t('moved.body')),
      h('div', { 'class': 'actions' }, button(t('moved.history'), function () { go('history'); }, null, { id: 'to-history' })),
      d.account ? h('section', { 'class': 'card' }, h('h2', {}, t('assets.account')), accountKV(d.account)) : null,
      d.skipped && d.skipped.length ? skippedSection(d.skipped) : null]);
  }

  // ---- plan -----------------------------------------------------------------------
  SCREENS.plan = screenPlan;
  function screenPlan() {
    var g = busy('plan', screenPlan);
    return get('/v1/plan').then(function (p) {
      if (g !== S.gen) return;
      if (!p.eligible) return screenNoMigration(null);
      remember(p.batches.map(function (b) { return b.subject; }));
      show('plan', t('plan.title'), [
        h('p', {}, tn('plan.intro', p.batches.length)),
        h('ul', { 'class': 'cards' }, p.batches.map(function (b) {
          var personal = !b.subject || b.subject.id === 'personal';
          return h('li', { 'class': 'card', 'data-batch': b.batchKey },
            h('h2', {}, subjectTitle(b.subject)),
            kv([[t('field.subjectKind'), personal ? t('subjectKind.personal') : word('subjectKind', b.subject.kind)], [t('field.target'), word('platform', b.targetPlatform)]]),
            counts(b.counts));
        })),
        h('div', { 'class': 'actions' }, button(t('plan.start'), startMigration, null, { id: 'start' }), button(t('back'), function () { history.back(); }, 'secondary'))]);
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
        S.note = r.status === 200 ? 'overview.resumed' : null;
        return go('overview');
      });
    }, function () { return main.querySelector('.actions'); });
  }

  // ---- the migration's batches ----------------------------------------------------
  SCREENS.overview = function () { var n = S.note; S.note = null; return screenOverview(n); };
  function screenOverview(noteKey, refreshed) {
    var g = busy('overview', function () { screenOverview(); });
    return Promise.all([get(migPath()), get('/v1/plan').catch(function () { return { batches: [] }; })]).then(function (r) {
      if (g !== S.gen) return;
      var m = r[0], known = remember(r[1].batches.map(function (b) { return b.subject; }));
      S.mig = m;
      var again = m.state === 'COMPLETED' && m.batches.some(function (b) { return b.state === 'FAILED' || b.state === 'EXPIRED'; });
      show('overview', t('overview.title'), [
        noteKey ? h('p', { 'class': 'note' }, t(noteKey)) : null,
        h('p', {}, t('overview.state', { state: word('mstate', m.state) })),
        h('ul', { 'class': 'cards' }, m.batches.map(function (b) { return batchCard(b, known); })),
        again ? h('div', { 'class': 'note' }, h('p', {}, t('overview.again')), button(t('overview.again.button'), function () { go('plan'); }, 'secondary', { id: 'again' })) : null,
        h('div', { 'class': 'actions' }, button(t('refresh'), function () { S.keepFocus = 'refresh'; screenOverview(null, true); }, 'secondary', { id: 'refresh' }),
          h('p', { id: 'updated', role: 'status', 'class': 'muted' }, refreshed ? t('refreshed', { at: new Date().toLocaleTimeString(apiLang()) }) : ''))]);
    }, function (e) { showError(e, function () { screenOverview(); }); });
  }
  function batchCard(b, known) {
    var s = known[b.subjectId] || { id: b.subjectId };
    var bid = b.batchId;
    var next = {
      ACCEPT_AGREEMENT: [t('next.agreement'), 'agreement'],
      SELECT_TARGET: [t('next.review'), 'review'],
      CONFIRM: [t('next.confirm'), 'confirm'],
      WAIT: [t('next.progress'), 'progress'],
      VIEW_TARGET: [t('next.done'), 'done']
    }[b.nextAction];
    return h('li', { 'class': 'card', 'data-batch': b.batchKey, 'data-state': b.state },
      h('h2', {}, subjectTitle(s) + ' → ' + word('platform', b.targetPlatform)),
      h('p', {}, h('span', { 'class': 'state ' + b.state }, word('state', b.state)), ' ', t('hint.' + b.state)),
      b.error ? h('div', { 'class': 'alert batch-error', 'data-code': b.error.code }, h('p', {}, h('strong', {}, errorText(b.error.code))), b.error.message ? h('p', { 'class': 'muted' }, b.error.message) : null) : null,
      timeLeft(b),
      counts(b.counts),
      next ? h('div', { 'class': 'actions' }, button(next[0], function () { go(next[1], bid); }, null, { 'data-action': b.nextAction }),
        b.nextAction === 'CONFIRM' ? button(t('target.change'), function () { go('target', bid); }, 'secondary', { 'data-action': 'CHANGE_TARGET' }) : null) : null);
  }
  function batchOf(id) {
    return get(migPath()).then(function (m) {
      S.mig = m;
      for (var i = 0; i < m.batches.length; i++) if (m.batches[i].batchId === id) return m.batches[i];
      throw { code: 'NOT_FOUND' };
    });
  }
  // batchLine names the batch a screen is for: its subject and target platform.
  function batchLine(b) {
    var s = knownSubjects()[b.subjectId] || { id: b.subjectId };
    return [h('p', { 'class': 'batch', id: 'batch-name' }, t('batch.line', { subject: subjectTitle(s), platform: word('platform', b.targetPlatform) })), timeLeft(b, 'time-left')];
  }
  // timeLeft: how long a waiting batch has before it expires, in words, and
  // the deadline in the console's language.
  function timeLeft(b, id) {
    if (!b.expiresAt || !/^AWAITING_/.test(b.state)) return null;
    var ms = Date.parse(b.expiresAt) - Date.now(), d = Math.floor(ms / 864e5), hr = Math.floor(ms / 36e5);
    var words = ms <= 0 ? t('left.none') : d >= 1 ? tn('left.days', d) : hr >= 1 ? tn('left.hours', hr) : tn('left.minutes', Math.ceil(ms / 6e4));
    return h('p', { 'class': 'left', id: id, 'data-expires': b.expiresAt }, h('strong', {}, words), t('left.by', { at: when(b.expiresAt) }));
  }
  function when(iso) { return new Date(iso).toLocaleString(apiLang(), { dateStyle: 'long', timeStyle: 'short' }); }
  function toOverview() { return button(t('overview.back'), function () { go('overview'); }, 'secondary', { 'data-to': 'overview' }); }

  // ---- agreement ------------------------------------------------------------------
  // GET /v1/agreement?lang= records the view of the text in the console's
  // language; accepting sends that text's hash. The box can be ticked once the
  // whole text has been on screen (scrolled to its end).
  SCREENS.agreement = screenAgreement;
  function screenAgreement(bid) {
    var g = busy('agreement', function () { screenAgreement(bid); });
    return Promise.all([get('/v1/agreement?lang=' + apiLang()), batchOf(bid)]).then(function (r) {
      if (g !== S.gen) return;
      var ag = r[0], b = r[1];
      if (b.state !== 'AWAITING_AGREEMENT') return acceptedAgreement(bid, b, ag);
      var box = h('input', { type: 'checkbox', id: 'agree', disabled: true, 'aria-describedby': 'agreement-hint' });
      var accept = button(t('agreement.accept'), function () { acceptAgreement(bid, ag); }, null, { id: 'accept', disabled: true });
      var hint = h('p', { id: 'agreement-hint', 'class': 'muted' }, t('agreement.scroll'));
      var text = agreementText(ag);
      var read = function () {
        if (text.scrollTop + text.clientHeight < text.scrollHeight - 4) return;
        box.disabled = false;
        hint.textContent = t('agreement.read');
        text.removeEventListener('scroll', read);
      };
      text.addEventListener('scroll', read);
      box.addEventListener('change', function () { accept.disabled = !box.checked; });
      show('agreement', t('agreement.title'), [
        batchLine(b),
        h('p', {}, t('agreement.intro')),
        text,
        h('p', { 'class': 'muted', id: 'agreement-version' }, t('agreement.version', { version: ag.version, lang: t('lang.' + ag.lang) }), ' ',
          h('span', { 'class': 'sha' }, t('agreement.sha', { sha: ag.sha256 }))),
        hint,
        h('div', { 'class': 'check' }, box, h('label', { 'for': 'agree' }, t('agreement.check'))),
        h('div', { 'class': 'actions' }, accept, toOverview())]);
      read(); // a text short enough to show whole needs no scrolling
    }, function (e) { showError(e, function () { screenAgreement(bid); }); });
  }
  function agreementText(ag) {
    return h('div', { 'class': 'agreement', tabindex: '0', role: 'region', 'aria-label': t('agreement.text'), id: 'agreement-text', lang: ag.lang },
      ag.text.split(/\n\s*\n/).map(function (p, i) { return h(i === 0 ? 'h2' : 'p', {}, p.trim()); }));
  }
  // Back to the agreement of a batch past it: what was accepted, and onwards.
  function acceptedAgreement(bid, b, ag) {
    var a = b.agreement;
    var onwards = b.state === 'AWAITING_TARGET' || b.state === 'AWAITING_CONFIRMATION';
    show('agreement', t('agreement.title'), [
      batchLine(b),
      a ? h('p', { 'class': 'ok', id: 'accepted' }, t('agreement.accepted', { version: a.version, lang: a.lang ? t('lang.' + a.lang) : '', at: new Date(a.acceptedAt).toLocaleString(apiLang()) })) : null,
      agreementText(ag),
      h('div', { 'class': 'actions' }, onwards ? button(t('review.title'), function () { go('review', bid); }, null, { id: 'continue' }) : null, toOverview())]);
  }
  function acceptAgreement(bid, ag) {
    action(function (key) {
      document.getElementById('accept').disabled = true;
      return api('POST', migPath(bid) + '/agreement', { version: ag.version, sha256: ag.sha256 }, key)
        .then(function () { return go('review', bid); });
    }, function () { return main.querySelector('.actions'); });
  }

  // ---- review (all seven kinds, paginated) ----------------------------------------
  SCREENS.review = function (bid) { return screenReview(bid); };
  function screenReview(bid, cursors) {
    cursors = cursors || [''];
    var cur = cursors[cursors.length - 1];
    var g = busy('review', function () { screenReview(bid, cursors); });
    return get(migPath(bid) + '?limit=' + PAGE + (cur ? '&cursor=' + enc(cur) : '')).then(function (r) {
      if (g !== S.gen) return;
      var subj = {};
      if (r.subject) { subj[r.subject.id] = r.subject; remember([r.subject]); }
      var apps = (r.apps || []).concat(r.services || []);
      learn(apps);
      var idn = r.identities && r.identities.length ? r.identities : (r.identity ? [r.identity] : []);
      var c = r.counts || {};
      // One page or several: a pager only when there is more than one.
      var paged = cursors.length > 1 || !!r.nextCursor;
      var pager = paged ? h('div', { 'class': 'pager' },
        h('span', { id: 'page' }, t('review.page', { n: cursors.length })),
        cursors.length > 1 ? button(t('review.prev'), function () { screenReview(bid, cursors.slice(0, -1)); }, 'secondary') : null,
        r.nextCursor ? button(t('review.next'), function () { screenReview(bid, cursors.concat([r.nextCursor])); }, 'secondary', { id: 'next-page' }) : null) : null;
      var acts = [];
      if (r.state === 'AWAITING_TARGET') acts.push(button(t('review.toTarget'), function () { go('target', bid); }, null, { id: 'continue' }));
      if (r.state === 'AWAITING_CONFIRMATION') {
        acts.push(button(t('next.confirm'), function () { go('confirm', bid); }, null, { id: 'continue' }));
        acts.push(button(t('target.change'), function () { go('target', bid); }, 'secondary', { id: 'change-target' }));
      }
      show('review', t('review.title'), [
        batchLine(r),
        h('p', {}, t('review.intro')),
        h('section', { 'class': 'card', 'data-kind': 'account' }, h('h2', {}, t('review.account')), accountKV(r.account)),
        h('section', { 'class': 'card', 'data-kind': 'subject' }, h('h2', {}, t('review.subject')),
          r.subject ? kv([[t('field.name'), r.subject.name], [t('field.subjectKind'), word('subjectKind', r.subject.kind)], [t('field.certified'), r.subject.certified ? t('yes') : t('no')]]) : h('p', {}, t('subject.personal')),
          h('p', {}, t('field.target') + t('colon') + word('platform', r.targetPlatform))),
        kindSection('apps', paged, (c.apps || 0) + (c.services || 0), apps, function (a) { return a.name + ' · ' + word('kind', a.kind || 'service'); }),
        kindSection('identity', paged, c.identities, idn, function (a) { return word('kind', a.kind) + (r.subject ? ' · ' + r.subject.name : ''); }),
        kindSection('members', paged, c.members, r.members, memberText, h('p', { 'class': 'note', id: 'members-note' }, t('members.note'))),
        kindSection('data', paged, c.data, r.data, dataText),
        kindSection('orders', paged, c.orders, r.orders, orderText),
        pager,
        h('div', { 'class': 'actions' }, acts, toOverview())]);
    }, function (e) { showError(e, function () { screenReview(bid, cursors); }); });
  }
  function memberText(m) {
    return t('member.line', { app: m.appName || nameOf(m.appId), account: m.accountId, role: word('role', m.role) });
  }
  function kindSection(kind, paged, total, list, line, note) {
    list = list || [];
    total = total === undefined ? list.length : total;
    var empty = !total ? t('none') : t('review.elsewhere');
    return h('section', { 'class': 'card', 'data-kind': kind }, h('h2', {}, t('review.' + kind, { n: total })),
      total ? note : null,
      list.length ? h('ul', { 'class': 'items' }, list.map(function (x) { return h('li', {}, line(x)); })) : h('p', { 'class': 'muted' }, empty));
  }

  // ---- target ---------------------------------------------------------------------
  // Nothing is chosen for the developer: an existing account must be picked on
  // purpose. Until the confirmation the choice may be changed (PUT again).
  SCREENS.target = function (bid) { return screenTarget(bid); };
  function screenTarget(bid, refusal) {
    var g = busy('target', function () { screenTarget(bid, refusal); });
    return Promise.all([get(migPath(bid) + '/targets'), batchOf(bid)]).then(function (r) {
      if (g !== S.gen) return;
      var tg = r[0], b = r[1];
      if (b.state !== 'AWAITING_TARGET' && b.state !== 'AWAITING_CONFIRMATION') return go('overview', null, true);
      var chosen = b.state === 'AWAITING_CONFIRMATION' && b.target ? (b.target.mode === 'new' ? '' : b.target.accountId) : null;
      var platform = word('platform', b.targetPlatform);
      var opts = tg.existing.map(function (a, i) {
        var id = 'target-' + i;
        return h('div', { 'class': 'option' }, h('input', { type: 'radio', name: 'target', id: id, value: a.accountId, checked: chosen === a.accountId }),
          h('label', { 'for': id }, h('strong', {}, a.accountId), ' · ', h('span', { 'class': 'login' }, a.login), ' · ' + t('onboarding.' + a.onboarding)));
      });
      if (tg.newAllowed) {
        opts.push(h('div', { 'class': 'option' }, h('input', { type: 'radio', name: 'target', id: 'target-new', value: '', checked: chosen === '' }),
          h('label', { 'for': 'target-new' }, h('strong', {}, t('target.new', { platform: platform })), h('span', { 'class': 'muted block' }, t('target.newNote', { login: S.claims.login || S.claims.sub })))));
      }
      var submit = h('button', { type: 'submit', id: 'target-submit' }, t('target.submit'));
      var form = h('form', { onsubmit: function (ev) { ev.preventDefault(); chooseTarget(bid, form, submit); } },
        h('fieldset', {}, h('legend', {}, t('target.legend', { platform: platform })), opts),
        h('div', { 'class': 'actions' }, submit, toOverview()));
      show('target', t('target.title'), [
        batchLine(b),
        chosen !== null ? h('p', { 'class': 'note', id: 'current-target' }, t('target.current', { account: chosen || t('confirm.newAccount') })) : null,
        h('p', {}, t('target.intro')),
        h('p', { 'class': 'note' }, tg.existing.length ? t('target.existingNote') : t('target.noneEligible')),
        form]);
      if (refusal) showError({ code: refusal }, null, form);
    }, function (e) { showError(e, function () { screenTarget(bid); }); });
  }
  function chooseTarget(bid, form, submit) {
    var picked = form.querySelector('input[name=target]:checked');
    if (!picked) return showError({ code: 'TARGET_REQUIRED' }, null, submit.parentNode);
    var body = picked.value ? { mode: 'existing', accountId: picked.value } : { mode: 'new' };
    action(function (key) {
      submit.disabled = true;
      return api('PUT', migPath(bid) + '/target', body, key).then(function () { return go('confirm', bid); }, function (e) { submit.disabled = false; throw e; });
    }, function () { return submit.parentNode; });
  }

  // ---- confirmation (irreversible) ------------------------------------------------
  SCREENS.confirm = screenConfirm;
  function screenConfirm(bid) {
    var g = busy('confirm', function () { screenConfirm(bid); });
    return Promise.all([batchOf(bid), get('/v1/plan').catch(function () { return { batches: [] }; })]).then(function (r) {
      if (g !== S.gen) return;
      var b = r[0];
      remember(r[1].batches.map(function (p) { return p.subject; }));
      if (b.state !== 'AWAITING_CONFIRMATION') return go(b.state === 'COMMITTING' || b.state === 'COMMITTED' ? 'progress' : 'overview', b.state === 'COMMITTING' || b.state === 'COMMITTED' ? bid : null, true);
      var isNew = b.target && b.target.mode === 'new';
      var target = isNew ? t('confirm.newAccount') : (b.targetAccountId || (b.target && b.target.accountId));
      var box = h('input', { type: 'checkbox', id: 'understand' });
      var go_ = button(t('confirm.button'), function () { commit(bid, b); }, 'danger', { id: 'commit', disabled: true });
      box.addEventListener('change', function () { go_.disabled = !box.checked; });
      show('confirm', t('confirm.title'), [
        batchLine(b),
        h('div', { 'class': 'warn', id: 'warning' }, h('p', {}, h('strong', {}, t('confirm.warn.lead'))), h('p', {}, t('confirm.warn.body'))),
        h('section', { 'class': 'card' }, kv([[t('field.target'), word('platform', b.targetPlatform)], [t('field.targetAccount'), h('span', { id: 'chosen-target' }, target)]]), counts(b.counts),
          h('p', { 'class': 'muted' }, isNew ? t('target.newNote', { login: S.claims.login || S.claims.sub }) : t('signin.existing', { platform: word('platform', b.targetPlatform) }))),
        h('div', { 'class': 'check' }, box, h('label', { 'for': 'understand' }, t('confirm.check'))),
        h('div', { 'class': 'actions' }, go_, button(t('target.change'), function () { go('target', bid); }, 'secondary', { id: 'change-target' }),
          button(t('confirm.review'), function () { go('review', bid); }, 'secondary'), toOverview())]);
    }, function (e) { showError(e, function () { screenConfirm(bid); }); });
  }
  function commit(bid) {
    action(function (key) {
      document.getElementById('commit').disabled = true;
      return api('POST', migPath(bid) + '/commit', { confirm: true }, key).then(function () {
        return go('progress', bid, true); // Back must not lead to a confirmation already given
      }, function (e) {
        // The point of no return refused the account: nothing moved, choose again.
        if (e.code === 'TARGET_NOT_ELIGIBLE') { history.replaceState({}, '', addr('target', bid)); return screenTarget(bid, e.code); }
        if (e.code === 'QUOTA_EXCEEDED') return refused(e);
        throw e;
      });
    }, function () { return document.getElementById('commit').parentNode; });
  }
  function refused(e) {
    var box = showError(e, null, document.getElementById('commit').parentNode);
    add(box, [h('p', {}, t('confirm.failed')), h('div', { 'class': 'actions' }, toOverview())]);
    var chk = document.getElementById('understand');
    if (chk) chk.disabled = true;
    box.querySelector('button').focus();
  }

  // ---- progress -------------------------------------------------------------------
  // While the batch moves the screen says so; once it has moved, the same
  // screen says it is done (heading, text and count), and offers the next one.
  SCREENS.progress = screenProgress;
  function screenProgress(bid) {
    var g = busy('progress', function () { screenProgress(bid); });
    var bar = h('progress', { id: 'bar', max: '1', value: '0', 'aria-labelledby': 'bar-label' });
    var label = h('p', { id: 'bar-label', 'aria-live': 'polite' }, t('progress.starting'));
    var intro = h('p', { id: 'progress-intro' }, t('progress.intro'));
    var shown = false;
    var poll = function () {
      if (g !== S.gen) return; // the user went elsewhere: stop polling
      batchOf(bid).then(function (b) {
        if (g !== S.gen) return;
        var done = b.state === 'COMMITTED';
        if (!shown) {
          shown = true;
          show('progress', t(done ? 'done.title' : 'progress.title'), [batchLine(b), intro, label, bar,
            b.counts && b.counts.members ? h('p', { 'class': 'note', id: 'members-note' }, tn('progress.members', b.counts.members)) : null,
            h('div', { 'class': 'actions' }, toOverview())]);
        }
        var p = b.progress || { moved: 0, total: 0 };
        bar.max = Math.max(1, p.total);
        bar.value = p.moved;
        label.textContent = tn('progress.count', p.total, { moved: p.moved });
        main.setAttribute('data-state', b.state);
        if (done) {
          var h1 = document.getElementById('title');
          h1.textContent = t('done.title');
          document.title = t('done.title') + ' · ' + t('app.title');
          intro.textContent = t('progress.done', { platform: word('platform', b.targetPlatform) });
          intro.className = 'ok';
          renderSteps('done');
          // No jump to another screen under the user's feet: offer the next one.
          var next = button(t('next.done'), function () { go('done', bid); }, null, { id: 'see-target' });
          var row = main.querySelector('.actions');
          row.insertBefore(next, row.firstChild);
          main.setAttribute('data-done', 'true');
          return next.focus();
        }
        if (b.state !== 'COMMITTING') return go('overview', null, true);
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
  SCREENS.done = screenDone;
  function screenDone(bid) {
    var g = busy('done', function () { screenDone(bid); });
    return batchOf(bid).then(function (b) {
      if (b.state !== 'COMMITTED') return go(b.state === 'COMMITTING' ? 'progress' : 'overview', b.state === 'COMMITTING' ? bid : null, true);
      return Promise.all([get('/v1/targets/' + enc(b.targetPlatform) + '/accounts/' + enc(b.targetAccountId) + '?limit=1000'),
        b.counts && b.counts.members ? get(migPath(bid) + '?limit=1000').catch(function () { return null; }) : null,
        get(receiptPath(S.migId, bid) + '?limit=1').catch(function () { return null; })]).then(function (r) {
        if (g !== S.gen) return;
        var acc = r[0], review = r[1];
        var platform = word('platform', b.targetPlatform);
        var site = b.targetPlatform === 'partner' ? 'https://partner.open-douyin.com/' : 'https://developer.open-douyin.com/';
        var isNew = b.target && b.target.mode === 'new';
        learn(acc.apps); learn(acc.services);
        if (review) { learn(review.apps); learn(review.services); }
        var members = review ? review.members || [] : [];
        show('done', t('done.title'), [
          batchLine(b),
          h('div', { 'class': 'ok' }, h('p', {}, h('strong', {}, t('done.lead', { platform: platform, account: acc.accountId })))),
          h('section', { 'class': 'card', id: 'signin-guide' }, h('h2', {}, t('done.signin.title')),
            h('p', {}, isNew ? t('done.signin.new', { platform: platform, login: acc.login }) : t('done.signin.existing', { platform: platform, login: acc.login })),
            h('p', {}, h('a', { href: site }, t('done.signin.link', { platform: platform })))),
          h('section', { 'class': 'card', id: 'target-account' }, h('h2', {}, t('done.account')),
            kv([[t('field.accountId'), acc.accountId], [t('field.login'), acc.login], [t('field.platform'), platform],
              [t('field.onboarding'), t('onboarding.' + acc.onboarding)]])),
          // What it holds, kind by kind; a kind it holds none of is left out.
          (acc.apps || []).length ? itemSection('assets.apps', acc.apps, function (a) { return a.name + ' · ' + word('kind', a.kind); }) : null,
          (acc.services || []).length ? itemSection('assets.services', acc.services, function (a) { return a.name; }) : null,
          (acc.identities || []).length ? itemSection('assets.identities', acc.identities, function (a) { return word('kind', a.kind); }) : null,
          (acc.data || []).length ? itemSection('assets.data', acc.data, dataText) : null,
          (acc.orders || []).length ? itemSection('assets.orders', acc.orders, orderText) : null,
          members.length ? h('section', { 'class': 'card', id: 'app-members' }, h('h2', {}, t('done.members', { n: members.length })),
            h('p', {}, t('members.note')),
            h('ul', { 'class': 'items' }, members.map(function (m) {
              // The batch moved the app: its relations now point to it there.
              return h('li', {}, memberText(m) + ' · ' + t('member.linked', { platform: word('platform', m.linkedTo || b.targetPlatform) }));
            }))) : null,
          acc.memberships && acc.memberships.length ? itemSection('done.memberships', acc.memberships, memberText) : null,
          r[2] ? receiptCard(S.migId, bid, r[2], true) : null,
          h('div', { 'class': 'actions' }, toOverview())]);
      });
    }).catch(function (e) { showError(e, function () { screenDone(bid); }); });
  }

  // ---- history: every migration of the account, newest first -------------------
  // Each batch says what it became and where it moved; a moved batch has its
  // receipt. "More" reads the next page under the ones shown.
  SCREENS.history = function () { return screenHistory(); };
  function screenHistory() {
    var g = busy('history', screenHistory);
    var list = h('ul', { 'class': 'cards', id: 'history' }), more = h('div', { 'class': 'actions' });
    var page = function (cursor) {
      return get('/v1/migrations?limit=' + Math.min(PAGE, 20) + (cursor ? '&cursor=' + enc(cursor) : '')).then(function (d) {
        if (g !== S.gen) return;
        var known = knownSubjects(), cards = d.migrations.map(function (m) { return migrationCard(m, known); });
        add(list, cards);
        more.textContent = '';
        if (d.nextCursor) add(more, button(t('history.more'), function (ev) {
          ev.currentTarget.disabled = true;
          page(d.nextCursor).catch(function (e) { showError(e, null, more); });
        }, 'secondary', { id: 'more' }));
        if (!cursor) {
          show('history', t('history.title'), [h('p', {}, t('history.intro')),
            cards.length ? list : h('p', { 'class': 'muted' }, t('history.none')), more]);
        } else if (cards.length) cards[0].querySelector('h2').focus();
      });
    };
    return page('').catch(function (e) { showError(e, screenHistory); });
  }
  function migrationCard(m, known) {
    var last = m.batches.reduce(function (a, b) { return b.updatedAt > a ? b.updatedAt : a; }, m.createdAt);
    return h('li', { 'class': 'card', 'data-migration': m.migrationId, 'data-state': m.state },
      h('h2', { tabindex: '-1' }, t('history.started', { at: when(m.createdAt) })),
      h('p', {}, h('span', { 'class': 'state ' + m.state }, word('mstate', m.state)), ' ', t('history.updated', { at: when(last) })),
      h('ul', { 'class': 'records' }, m.batches.map(function (b) {
        var moved = b.state === 'COMMITTED', platform = word('platform', b.targetPlatform);
        return h('li', { 'data-batch': b.batchKey, 'data-batch-id': b.batchId, 'data-state': b.state },
          h('h3', {}, subjectTitle(known[b.subjectId] || { id: b.subjectId }) + ' → ' + platform),
          h('p', {}, h('span', { 'class': 'state ' + b.state }, word('state', b.state)), ' ',
            moved ? t('history.movedTo', { platform: platform, account: b.targetAccountId, at: when(b.updatedAt) }) : t('hint.' + b.state)),
          b.error ? h('p', { 'class': 'muted' }, errorText(b.error.code)) : null,
          timeLeft(b), counts(b.counts),
          moved ? h('div', { 'class': 'actions' }, button(t('receipt.view'), function () { go('receipt', b.batchId, false, m.migrationId); }, 'secondary', { 'data-action': 'RECEIPT' })) : null);
      })),
      m.state === 'IN_PROGRESS' ? h('div', { 'class': 'actions' }, button(t('history.continue'), function () {
        S.migId = m.migrationId;
        store('local', migKey(), S.migId);
        go('overview');
      }, null, { 'data-action': 'OVERVIEW' })) : null);
  }

  // ---- receipt: what a moved batch moved, from where to where ---------------------
  function receiptPath(mid, bid) { return '/v1/migrations/' + enc(mid) + '/batches/' + enc(bid) + '/receipt'; }
  SCREENS.receipt = function (bid) { return screenReceipt(bid, new URLSearchParams(location.search).get('migration') || S.migId); };
  function screenReceipt(bid, mid) {
    var g = busy('receipt', function () { screenReceipt(bid, mid); });
    var items = h('ul', { 'class': 'items', id: 'receipt-items' }), more = h('div', { 'class': 'actions' });
    var page = function (cursor) {
      return get(receiptPath(mid, bid) + '?limit=' + PAGE + (cursor ? '&cursor=' + enc(cursor) : '')).then(function (r) {
        if (g !== S.gen) return;
        learn(r.items);
        var lines = r.items.map(function (x) { return h('li', { tabindex: '-1' }, itemLine(x)); });
        add(items, lines);
        more.textContent = '';
        if (r.nextCursor) add(more, button(t('history.more'), function (ev) {
          ev.currentTarget.disabled = true;
          page(r.nextCursor).catch(function (e) { showError(e, null, more); });
        }, 'secondary', { id: 'more' }));
        if (!cursor) {
          show('receipt', t('receipt.title'), [
            batchLine({ subjectId: r.batchKey.split('/')[0], targetPlatform: r.to.platform }),
            h('p', {}, t('receipt.intro')),
            receiptCard(mid, bid, r),
            h('section', { 'class': 'card' }, h('h2', {}, t('receipt.items', { n: r.total })), items, more),
            h('div', { 'class': 'actions' }, button(t('history.back'), function () { go('history'); }, 'secondary'))]);
        } else if (lines.length) lines[0].focus();
      });
    };
    return page('').catch(function (e) { showError(e, function () { screenReceipt(bid, mid); }); });
  }
  function itemLine(x) {
    return [word('type', x.type), x.name, x.id, x.assetId ? nameOf(x.assetId) : '', x.kind ? word('kind', x.kind) : '', x.role ? word('role', x.role) : '']
      .filter(function (p) { return p; }).join(' · ');
  }
  function receiptCard(mid, bid, r, titled) {
    var a = r.agreement;
    var note = h('p', { id: 'download-status', role: 'status', 'class': 'muted' });
    var dl = function (fmt) {
      return function (ev) { download(mid, bid, fmt, ev.currentTarget, note); };
    };
    return h('section', { 'class': 'card', id: 'receipt' }, titled ? h('h2', {}, t('receipt.title')) : null,
      kv([[t('receipt.from'), word('platform', r.from.platform) + ' · ' + r.from.accountId],
        [t('receipt.to'), word('platform', r.to.platform) + ' · ' + r.to.accountId],
        [t('receipt.when'), when(r.committedAt)],
        [t('receipt.agreement'), a ? t('receipt.agreed', { version: a.version, lang: a.lang ? t('lang.' + a.lang) : '', sha: a.sha256.slice(0, 12), at: when(a.acceptedAt) }) : ''],
        [t('receipt.count'), h('span', { id: 'receipt-total', 'data-total': String(r.total) }, tn('receipt.n', r.total))]]),
      h('p', { 'class': 'sha muted' }, t('receipt.sha', { sha: r.sha256 })),
      h('div', { 'class': 'actions' }, button(t('receipt.csv'), dl('csv'), null, { id: 'download-csv' }),
        button(t('receipt.json'), dl('json'), 'secondary', { id: 'download-json' }),
        titled ? button(t('receipt.all'), function () { go('receipt', bid, false, mid); }, 'secondary') : null),
      note);
  }
  // download saves the receipt as a file: the CSV as the server wrote it
  // (under its name), the JSON with every page's items in one list.
  function download(mid, bid, fmt, btn, note) {
    btn.disabled = true;
    var file = fmt === 'csv' ? receiptCSV(mid, bid) : receiptAll(mid, bid).then(function (r) {
      return { name: 'receipt-' + bid + '.json', blob: new Blob([JSON.stringify(r, null, 2) + '\n'], { type: 'application/json' }) };
    });
    return file.then(function (f) {
      var url = URL.createObjectURL(f.blob), a = h('a', { href: url, download: f.name, hidden: true });
      document.body.appendChild(a);
      a.click();
      a.parentNode.removeChild(a);
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
      btn.disabled = false;
      note.textContent = t('receipt.saved', { name: f.name });
    }, function (e) {
      btn.disabled = false;
      showError(e, function () { download(mid, bid, fmt, btn, note); }, btn.parentNode);
    });
  }
  function receiptCSV(mid, bid) {
    return fetch(receiptPath(mid, bid) + '?format=csv', { headers: { Accept: 'text/csv', Authorization: 'Bearer ' + S.token }, cache: 'no-store' })
      .catch(function () { throw { code: 'NETWORK' }; })
      .then(function (res) {
        if (!res.ok) return res.json().catch(function () { return null; }).then(function (d) { throw problem(res, d); });
        var m = /filename="?([^";]+)/.exec(res.headers.get('content-disposition') || '');
        return res.blob().then(function (b) { return { name: m ? m[1] : 'receipt-' + bid + '.csv', blob: b }; });
      });
  }
  function receiptAll(mid, bid) {
    var all = null;
    var step = function (cursor) {
      return get(receiptPath(mid, bid) + '?limit=' + PAGE + (cursor ? '&cursor=' + enc(cursor) : '')).then(function (r) {
        if (!all) all = r;
        else if (r.sha256 !== all.sha256) { all = null; return step(''); } // the list changed between pages: read it again
        else all.items = all.items.concat(r.items);
        if (r.nextCursor) return step(r.nextCursor);
        delete all.nextCursor;
        return all;
      });
    };
    return step('');
  }

  // ---- start ----------------------------------------------------------------------
  document.getElementById('lang').addEventListener('click', function () {
    S.lang = S.lang === 'zh' ? 'en' : 'zh';
    store('local', 'console.lang', S.lang);
    applyLang();
    // Redraw the current screen in the new language (it fetches afresh: the
    // agreement comes in the new language); the focus stays on this button.
    S.keepFocus = 'lang';
    if (S.screen === 'nomigration' || !S.redraw) screenAssets(); else S.redraw();
  });
  document.getElementById('signout').addEventListener('click', function () { signOut(); });
  document.getElementById('site-nav').addEventListener('click', function (ev) {
    var a = ev.target.closest('a[data-screen]');
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    ev.preventDefault();
    go(a.getAttribute('data-screen'));
  });
  applyLang();
  var saved = store('session', 'console.token');
  if (saved && decodeClaims(saved)) {
    S.token = saved; S.claims = decodeClaims(saved); renderWho();
    S.migId = store('local', migKey());
  }
  fromAddress();
}());
