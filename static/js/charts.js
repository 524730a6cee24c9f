/* Draws the statistics pages' charts with Chart.js from the figures in the page's JSON block (#chart-data).
   Every chart has a table beside it with the same numbers; without script the tables alone remain. */
(function () {
  'use strict';

  var source = document.getElementById('chart-data');
  if (!source || !window.Chart) {
    return;
  }
  var figures = JSON.parse(source.textContent);
  var TEXT = '#0b0c0c';      // the site's text colour
  var BAR = '#9b1c1c';       // the site's civic red: 8:1 against white
  var LINE = '#1d4ed8';      // the site's link blue: 6.7:1 against white
  var GRID = '#d8dadb';

  Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 14;
  Chart.defaults.color = TEXT;
  Chart.defaults.animation = false;  // calm, and no motion for those who asked for none
  Chart.defaults.maintainAspectRatio = false;

  // A long label on several lines (by words, or every few characters in Chinese, which has no spaces), so that
  // the axis does not cut it off on a phone; the chart's own labels stay whole for tooltips and screen readers.
  function wrap(label) {
    var text = String(label);
    var lines = [];
    if (/\s/.test(text)) {
      text.split(/\s+/).forEach(function (word) {
        var last = lines.length - 1;
        if (last >= 0 && (lines[last] + ' ' + word).length <= 18) {
          lines[last] += ' ' + word;
        } else {
          lines.push(word);
        }
      });
    } else {
      for (var i = 0; i < text.length; i += 9) {
        lines.push(text.slice(i, i + 9));
      }
    }
    return lines.length > 1 ? lines : text;
  }

  function labelAxis() {
    return {
      grid: { display: false },
      ticks: { autoSkip: false, callback: function (value) { return wrap(this.getLabelForValue(value)); } }
    };
  }

  function countAxis() {
    return { beginAtZero: true, ticks: { precision: 0 }, grid: { color: GRID } };
  }

  function config(chart) {
    var line = chart.type === 'line';
    var dataset = {
      label: chart.dataset,
      data: chart.data,
      backgroundColor: line ? LINE : BAR,
      borderColor: line ? LINE : BAR,
      borderWidth: line ? 3 : 0,
      pointRadius: line ? 4 : 0,
      pointBackgroundColor: LINE
    };
    return {
      type: line ? 'line' : 'bar',
      data: { labels: chart.labels, datasets: [dataset] },
      options: {
        locale: figures.locale,
        indexAxis: line ? 'x' : 'y',  // bars run across, so long labels read well on a phone
        responsive: true,
        plugins: { legend: { display: false } },
        scales: line
          ? { x: { grid: { display: false } }, y: countAxis() }
          : { x: countAxis(), y: labelAxis() }
      }
    };
  }

  var canvases = document.querySelectorAll('canvas[data-chart]');
  Array.prototype.forEach.call(canvases, function (canvas) {
    var chart = figures.charts[canvas.getAttribute('data-chart')];
    if (!chart) {
      return;
    }
    var box = canvas.parentNode;
    box.hidden = false;
    // A bar per row: the box grows with the rows (set here, as the CSP allows no inline style).
    box.style.height = chart.type === 'line' ? '18rem' : Math.max(10, 3 * chart.labels.length + 4) + 'rem';
    new Chart(canvas, config(chart));
  });
}());
