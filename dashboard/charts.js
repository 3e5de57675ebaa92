// Small time-series charts on uPlot (loaded before this file as the global `uPlot`). One chart object per
// canvas; `update` swaps the data without rebuilding, `resize` follows the panel's width.
'use strict'

window.DevtripCharts = (function () {
  const AXIS = { stroke: '#8693a3', grid: { stroke: '#26313d', width: 1 }, ticks: { stroke: '#26313d', width: 1 }, font: '10px system-ui, sans-serif', size: 34 }

  function compact (v) {
    if (v == null) return ''
    const a = Math.abs(v)
    if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M'
    if (a >= 1e3) return (v / 1e3).toFixed(a >= 1e4 ? 0 : 1) + 'k'
    return a >= 10 || a === 0 ? String(Math.round(v)) : v.toFixed(1)
  }

  /**
   * series: [{ label, stroke, fill?, scale? }]; a second scale ('s') is drawn on the right axis.
   * Returns { update(xs, ...ys), resize(width) }.
   */
  function create (element, series, options) {
    const hasRight = series.some((s) => s.scale === 'right')
    const opts = {
      width: Math.max(160, element.clientWidth),
      height: (options && options.height) || 110,
      legend: { show: false },
      cursor: { points: { size: 5 }, drag: { x: false, y: false } },
      padding: [6, 4, 0, 0],
      scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.1)] }, right: { range: (_u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        Object.assign({}, AXIS, { size: 22, space: 70, values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })) }),
        Object.assign({}, AXIS, { values: (_u, ticks) => ticks.map(compact) }),
        ...(hasRight ? [Object.assign({}, AXIS, { side: 1, scale: 'right', grid: { show: false }, values: (_u, ticks) => ticks.map((t) => compact(t) + 's') })] : [])
      ],
      series: [{}].concat(series.map((s) => ({
        label: s.label,
        stroke: s.stroke,
        width: 1.5,
        fill: s.fill,
        dash: s.dash,
        scale: s.scale === 'right' ? 'right' : 'y',
        spanGaps: true,
        points: { show: false }
      })))
    }
    const empty = [[]].concat(series.map(() => []))
    const plot = new window.uPlot(opts, empty, element)
    return {
      update (xs, ...ys) { plot.setData([xs].concat(ys)) },
      resize (width) { plot.setSize({ width: Math.max(160, width), height: opts.height }) },
      destroy () { plot.destroy() }
    }
  }

  return { create, compact }
})()
