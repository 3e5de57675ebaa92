// The operator dashboard: reads GET /v1/lag/stream (server-sent events, the document built by
// streams/tools/overview.ts) with the bearer token the user gave, and redraws the panels on every event without
// reloading. fetch() streams the events rather than EventSource, because EventSource cannot send an
// Authorization header. Plain DOM, no framework, no build step.
'use strict'

;(function () {
  // colour thresholds: lag in seconds (age of the oldest unconsumed record) decides a group's colour
  const SECONDS_WARN = 10
  const SECONDS_CRIT = 60
  // without a readable record time (timestamps off), the record lag decides
  const RECORDS_WARN = 1000
  const RECORDS_CRIT = 10000
  const TOKEN_KEY = 'devtrip-dashboard-token'

  const $ = (id) => document.getElementById(id)
  const panels = new Map() // groupId -> { root, charts, parts }
  let token = null
  let last = null
  let lastEventAt = 0
  let abort = null
  let retryMs = 1000

  // ---- formatting ---------------------------------------------------------------------------------------------

  const num = (v) => (v == null ? '–' : Number(v).toLocaleString('en-US'))
  const rate = (v) => (v == null ? '–' : v >= 100 ? Math.round(v).toLocaleString('en-US') + '/s' : v.toFixed(1) + '/s')
  function duration (s) {
    if (s == null) return '–'
    if (s < 1) return s === 0 ? '0s' : '<1s'
    if (s < 60) return Math.round(s) + 's'
    if (s < 3600) return Math.floor(s / 60) + 'm ' + String(Math.round(s % 60)).padStart(2, '0') + 's'
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm'
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h'
  }
  const time = (ms) => (ms == null ? '–' : new Date(ms).toLocaleString([], { month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }))
  function el (tag, className, text) {
    const e = document.createElement(tag)
    if (className) e.className = className
    if (text != null) e.textContent = text
    return e
  }

  function level (seconds, records) {
    if (seconds != null) return seconds >= SECONDS_CRIT ? 'crit' : seconds >= SECONDS_WARN ? 'warn' : 'ok'
    if (records == null) return 'idle'
    return records >= RECORDS_CRIT ? 'crit' : records >= RECORDS_WARN ? 'warn' : 'ok'
  }
  function stateLevel (state) {
    if (state === 'Stable') return 'ok'
    if (state === 'PreparingRebalance' || state === 'CompletingRebalance' || state === 'Assigning' || state === 'Reconciling') return 'warn'
    if (state === 'Dead') return 'crit'
    return 'idle'
  }

  // ---- token --------------------------------------------------------------------------------------------------

  function readToken () {
    const hash = new URLSearchParams(location.hash.slice(1))
    const fromHash = hash.get('token')
    if (fromHash) {
      sessionStorage.setItem(TOKEN_KEY, fromHash)
      // the token must not stay in the address bar (or in a screenshot of it)
      history.replaceState(null, '', location.pathname + location.search)
    }
    return sessionStorage.getItem(TOKEN_KEY)
  }

  function showLogin (message) {
    $('main').hidden = true
    $('login').hidden = false
    $('login-error').hidden = !message
    $('login-error').textContent = message || ''
    setStatus('down', 'signed out')
  }

  // ---- the event stream ---------------------------------------------------------------------------------------

  function setStatus (kind, text) {
    $('status-dot').className = 'dot ' + (kind || '')
    $('status-text').textContent = text
  }

  async function connect () {
    if (abort) abort.abort()
    abort = new AbortController()
    setStatus('', 'connecting…')
    let response
    try {
      response = await fetch('/v1/lag/stream', { headers: { authorization: 'Bearer ' + token, accept: 'text/event-stream' }, signal: abort.signal })
    } catch (error) {
      if (error.name === 'AbortError') return
      return reconnect('cannot reach the API: ' + error.message)
    }
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY)
      const body = await response.json().catch(() => null)
      return showLogin((body && body.error && body.error.message) || 'the token was refused')
    }
    if (!response.ok) {
      const body = await response.json().catch(() => null)
      return reconnect((body && body.error && body.error.message) || ('HTTP ' + response.status))
    }
    $('login').hidden = true
    $('main').hidden = false
    retryMs = 1000
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true })
        let end
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          handleBlock(block)
        }
      }
    } catch (error) {
      if (error.name === 'AbortError') return
      return reconnect('the event stream broke: ' + error.message)
    }
    reconnect('the server closed the event stream')
  }

  function reconnect (why) {
    setStatus('down', why + ' — retrying')
    setTimeout(connect, retryMs)
    retryMs = Math.min(15000, retryMs * 2)
  }

  function handleBlock (block) {
    let event = 'message'
    const data = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue
      if (line.startsWith('event:')) event = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
    }
    if (event !== 'overview' || data.length === 0) return
    last = JSON.parse(data.join('\n'))
    lastEventAt = Date.now()
    render(last)
  }

  // ---- rendering ----------------------------------------------------------------------------------------------

  function visibleGroups (doc) {
    const filter = $('filter').value.trim().toLowerCase()
    return doc.groups.filter((g) => filter === '' || g.groupId.toLowerCase().includes(filter))
  }

  function render (doc) {
    const groups = visibleGroups(doc)
    renderSummary(doc, groups)
    const banner = $('error-banner')
    banner.hidden = !doc.error
    banner.textContent = doc.error ? 'Last refresh failed at ' + time(doc.error.at) + ': ' + doc.error.message : ''

    const container = $('groups')
    const keep = new Set(groups.map((g) => g.groupId))
    for (const [id, panel] of panels) {
      if (!keep.has(id)) {
        panel.charts.forEach((c) => c.destroy())
        panel.root.remove()
        panels.delete(id)
      }
    }
    groups.forEach((g, i) => {
      let panel = panels.get(g.groupId)
      if (!panel) {
        panel = createPanel(g.groupId)
        panels.set(g.groupId, panel)
      }
      if (container.children[i] !== panel.root) container.insertBefore(panel.root, container.children[i] || null)
      updatePanel(panel, g, doc)
    })
    if (groups.length === 0) {
      if (!container.querySelector('.empty')) container.appendChild(el('p', 'empty', doc.groups.length === 0 ? 'No consumer groups yet.' : 'No group matches the filter.'))
    } else {
      container.querySelectorAll('.empty').forEach((e) => e.remove())
    }
    renderDlq(doc)
    renderRestore(doc, new Set(doc.groups.map((g) => g.groupId)))
  }

  function kpi (label, value, cls) {
    const box = el('div', 'kpi')
    box.appendChild(el('div', 'label', label))
    box.appendChild(el('div', 'value ' + (cls || ''), value))
    return box
  }

  function renderSummary (doc, groups) {
    const s = $('summary')
    s.replaceChildren()
    const lag = groups.reduce((sum, g) => sum + Number(g.totals.lag || 0), 0)
    const seconds = groups.reduce((m, g) => Math.max(m, g.totals.lagSeconds || 0), 0)
    const consume = groups.reduce((sum, g) => sum + (g.totals.consumeRate || 0), 0)
    const pending = doc.dlq.reduce((sum, d) => sum + d.pending, 0)
    s.appendChild(kpi('groups', String(groups.length)))
    s.appendChild(kpi('total lag', num(lag), level(null, lag)))
    s.appendChild(kpi('oldest unconsumed', duration(seconds), level(seconds, null)))
    s.appendChild(kpi('consuming', rate(consume)))
    s.appendChild(kpi('dead letters pending', num(pending), pending > 0 ? 'crit' : 'ok'))
  }

  function createPanel (groupId) {
    const root = el('article', 'panel')
    root.dataset.group = groupId
    const head = el('div', 'group-head')
    const title = el('h3', null, groupId)
    title.title = groupId
    head.appendChild(title)
    const badge = el('span', 'badge')
    head.appendChild(badge)
    const members = el('span', 'members')
    head.appendChild(members)
    root.appendChild(head)
    const stats = el('div', 'stats')
    root.appendChild(stats)
    const topics = el('div', 'topics')
    root.appendChild(topics)
    const bars = el('div', 'bars')
    bars.setAttribute('aria-label', 'lag per partition')
    root.appendChild(bars)
    const charts = el('div', 'charts')
    const lagBox = el('div')
    lagBox.appendChild(chartTitle('lag', [['records', '#f0883e'], ['seconds', '#e6edf3', true]]))
    const lagChart = el('div', 'chart')
    lagBox.appendChild(lagChart)
    const rateBox = el('div')
    rateBox.appendChild(chartTitle('records/s', [['produced', '#bc8cff'], ['consumed', '#58a6ff']]))
    const rateChart = el('div', 'chart')
    rateBox.appendChild(rateChart)
    charts.appendChild(lagBox)
    charts.appendChild(rateBox)
    root.appendChild(charts)
    const restore = el('div', 'restore-of-group')
    root.appendChild(restore)
    const parts = { badge, members, stats, topics, bars, lagChart, rateChart, restore }
    const panel = { root, parts, charts: [] }
    // charts are created once the panel is in the document and has a width
    requestAnimationFrame(() => {
      panel.charts = [
        window.DevtripCharts.create(lagChart, [
          { label: 'lag (records)', stroke: '#f0883e', fill: 'rgba(240,136,62,0.12)' },
          { label: 'lag (seconds)', stroke: '#e6edf3', scale: 'right', dash: [4, 3] }
        ]),
        window.DevtripCharts.create(rateChart, [
          { label: 'consumed/s', stroke: '#58a6ff', fill: 'rgba(88,166,255,0.10)' },
          { label: 'produced/s', stroke: '#bc8cff' }
        ])
      ]
      if (last) drawCharts(panel, last.history[groupId] || [])
      // panels change width when others come and go or the window resizes: the canvases follow
      new ResizeObserver(() => {
        panel.charts[0].resize(lagChart.clientWidth)
        panel.charts[1].resize(rateChart.clientWidth)
      }).observe(panel.root)
    })
    return panel
  }

  function chartTitle (text, series) {
    const title = el('div', 'chart-title', text)
    for (const [name, colour, dashed] of series) {
      const swatch = el('span', dashed ? 'swatch dashed' : 'swatch')
      swatch.style.background = colour
      swatch.style.borderColor = colour
      title.append(swatch, name)
    }
    return title
  }

  function stat (label, value, cls) {
    const s = el('div', 'stat')
    s.appendChild(el('div', 'label', label))
    s.appendChild(el('div', 'value ' + (cls || ''), value))
    return s
  }

  function updatePanel (panel, g, doc) {
    const t = g.totals
    const lvl = g.partitions.length === 0 ? 'idle' : level(t.lagSeconds, t.lag == null ? null : Number(t.lag))
    panel.root.className = 'panel ' + lvl
    panel.parts.badge.className = 'badge ' + stateLevel(g.state)
    panel.parts.badge.textContent = g.state
    panel.parts.members.textContent = g.members.length + (g.members.length === 1 ? ' member' : ' members')
    const committedLag = t.committedLag == null ? null : Number(t.committedLag)
    const eta = t.catchUpSeconds == null ? (committedLag > 0 ? (t.consumeRate ? 'not gaining' : 'stalled') : '–') : duration(t.catchUpSeconds)
    panel.parts.stats.replaceChildren(
      stat('lag', num(t.lag), level(null, t.lag == null ? null : Number(t.lag))),
      stat('lag rc', num(t.committedLag)),
      stat('waiting', duration(t.lagSeconds), level(t.lagSeconds, null)),
      stat('consumed', rate(t.consumeRate)),
      stat('produced', rate(t.produceRate)),
      stat('catch-up', eta, t.catchUpSeconds == null && committedLag > 0 ? 'warn' : '')
    )
    const bars = panel.parts.bars
    bars.replaceChildren()
    const max = g.partitions.reduce((m, p) => Math.max(m, Number(p.lag || 0)), 0)
    // one topic (the usual case): name it once above short partition labels
    const topicNames = [...new Set(g.partitions.map((p) => p.topic))]
    const single = topicNames.length === 1
    panel.parts.topics.textContent = topicNames.length === 0 ? '' : (single ? 'topic ' : 'topics ') + topicNames.join(', ')
    panel.parts.topics.title = panel.parts.topics.textContent
    for (const p of g.partitions) {
      const lag = p.lag == null ? null : Number(p.lag)
      const label = el('div', 'label', single ? 'p' + p.partition : p.topic + ' [' + p.partition + ']')
      label.title = p.topic + ' partition ' + p.partition + ' · committed ' + (p.committedOffset ?? '–') + ' · end ' + p.logEndOffset +
        ' · stable ' + p.lastStableOffset + (p.clientId ? ' · ' + p.clientId + ' @ ' + p.host : ' · unassigned')
      const track = el('div', 'track')
      const fill = el('div', 'fill ' + (lag ? level(p.lagSeconds, lag) : 'zero'))
      fill.style.width = (max > 0 && lag ? Math.max(1, (lag / max) * 100) : 0) + '%'
      track.appendChild(fill)
      const count = el('div', 'count', num(lag))
      count.title = p.lagSeconds == null ? '' : 'oldest waiting ' + duration(p.lagSeconds)
      bars.append(label, track, count)
    }
    if (g.partitions.length === 0) bars.appendChild(el('div', 'label', 'no committed offsets'))
    drawCharts(panel, doc.history[g.groupId] || [])
    const stores = doc.restore.filter((r) => r.applicationId === g.groupId)
    panel.parts.restore.replaceChildren(...stores.map(restoreLine))
  }

  function drawCharts (panel, points) {
    if (panel.charts.length === 0) return
    const xs = points.map((p) => p.t / 1000)
    panel.charts[0].update(xs, points.map((p) => p.lag), points.map((p) => p.lagSeconds))
    panel.charts[1].update(xs, points.map((p) => p.consumeRate), points.map((p) => p.produceRate))
  }

  function restoreLine (r) {
    const line = el('div', 'restore-line')
    line.appendChild(el('div', 'label', r.store))
    const track = el('div', 'track')
    const fill = el('div', 'fill')
    const progress = r.progress == null ? 1 : r.progress
    fill.style.width = Math.round(progress * 100) + '%'
    if (r.progress == null) fill.style.background = 'var(--idle)'
    else if (r.progress < 1) fill.classList.add('warn')
    track.appendChild(fill)
    line.appendChild(track)
    line.appendChild(el('div', 'count', r.progress == null ? num(r.changelogRecords) + ' in changelog' : Math.floor(r.progress * 100) + '% restored'))
    line.title = r.source === 'metrics' ? num(r.restored) + ' restored, ' + num(r.remaining) + ' left' : 'changelog ' + r.changelogTopic + ' (progress is only known in the app\'s own process)'
    return line
  }

  function renderDlq (doc) {
    $('dlq-read-at').textContent = doc.dlqReadAt ? 'read ' + time(doc.dlqReadAt) : ''
    const box = $('dlq')
    if (doc.dlq.length === 0) {
      box.replaceChildren(el('p', 'empty', 'No dead-letter topics.'))
      return
    }
    const table = el('table')
    const head = el('tr')
    ;[['topic'], ['records', 'num'], ['pending', 'num'], ['oldest'], ['newest'], ['top errors'], ['last error']].forEach(([h, c]) => head.appendChild(el('th', c, h)))
    table.appendChild(head)
    for (const d of doc.dlq) {
      const row = el('tr')
      row.appendChild(el('td', null, d.topic))
      row.appendChild(el('td', 'num', (d.approximate ? '~' : '') + num(d.records)))
      row.appendChild(el('td', 'num ' + (d.pending > 0 ? 'pending-crit' : ''), (d.approximate ? '~' : '') + num(d.pending)))
      row.appendChild(el('td', null, time(d.oldest && d.oldest.timestamp)))
      row.appendChild(el('td', null, time(d.newest && d.newest.timestamp)))
      row.appendChild(el('td', null, d.topErrors.map((e) => e.exception + ' ×' + e.count).join(', ') || '–'))
      const lastError = d.lastError ? (d.lastError.exception || '?') + ': ' + (d.lastError.message || '') : '–'
      const cell = el('td', 'error-text', lastError)
      cell.title = lastError
      row.appendChild(cell)
      table.appendChild(row)
    }
    box.replaceChildren(table)
  }

  function renderRestore (doc, groupIds) {
    // stores of groups not on screen (or of apps without a group yet) are listed here
    const orphans = doc.restore.filter((r) => !groupIds.has(r.applicationId))
    $('restore-section').hidden = orphans.length === 0
    $('restore').replaceChildren(...orphans.map((r) => {
      const line = restoreLine(r)
      line.firstChild.textContent = r.applicationId + ' / ' + r.store
      return line
    }))
  }

  // ---- wiring -------------------------------------------------------------------------------------------------

  setInterval(() => {
    if (!lastEventAt) return
    const age = Math.round((Date.now() - lastEventAt) / 1000)
    const stale = last && age * 1000 > last.intervalMs * 3 + 2000
    setStatus(stale ? 'down' : 'live', stale ? 'no update for ' + age + 's' : 'live · updated ' + age + 's ago')
  }, 1000)

  const params = new URLSearchParams(location.search)
  $('filter').value = params.get('filter') || ''
  $('filter').addEventListener('input', () => {
    const q = new URLSearchParams(location.search)
    if ($('filter').value) q.set('filter', $('filter').value)
    else q.delete('filter')
    history.replaceState(null, '', location.pathname + (q.toString() ? '?' + q : ''))
    if (last) render(last)
  })

  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault()
    token = $('token').value.trim()
    sessionStorage.setItem(TOKEN_KEY, token)
    connect()
  })
  $('forget-token').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY)
    if (abort) abort.abort()
    token = null
    showLogin()
  })

  // a token given later in the fragment (the page was already open) counts too
  window.addEventListener('hashchange', () => {
    const given = new URLSearchParams(location.hash.slice(1)).get('token')
    if (!given) return
    token = readToken()
    connect()
  })

  token = readToken()
  if (token) connect()
  else showLogin()
})()
