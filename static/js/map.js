/* The maps: an entry form's place picker (tap the map or "use my location"; the point's fields are filled in)
   and a call's map (districts shaded by their ideas, the server's clusters for the view, a walk's circle).
   Drawn with the vendored Leaflet over the vendored district outlines; tiles only when the site configures
   a source. Without script the forms' fields and the page's list remain. */
(function () {
  'use strict';

  if (!window.L) {
    return;
  }
  var RED = '#9b1c1c';
  var BLUE = '#1d4ed8';
  var CITY = [[30.67, 120.85], [31.87, 122.0]];
  var SHADES = ['#f3f2f1', '#f6d5d5', '#e8a0a0', '#c65353', '#8a1c1c'];

  function round6(x) { return Math.round(x * 1e6) / 1e6; }

  function baseMap(element, shading) {
    element.hidden = false;
    element.setAttribute('role', 'region');
    element.setAttribute('aria-label', element.getAttribute('data-label') || '');
    var map = L.map(element, { zoomSnap: 0.5, attributionControl: Boolean(element.getAttribute('data-tiles')) });
    map.fitBounds(CITY);
    if (element.getAttribute('data-tiles')) {
      L.tileLayer(element.getAttribute('data-tiles'), {
        attribution: element.getAttribute('data-attribution') || '', maxZoom: 18
      }).addTo(map);
    }
    var counts = (shading && shading.counts) || {};
    var steps = (shading && shading.steps) || [];
    function step(n) {
      for (var i = 0; i < steps.length; i += 1) {
        if (n >= steps[i][0] && n <= steps[i][1]) { return i + 1; }
      }
      return 0;
    }
    fetch(element.getAttribute('data-outlines')).then(function (r) { return r.json(); }).then(function (data) {
      L.geoJSON(data, {
        interactive: false,
        style: function (feature) {
          // The statistics page's steps and colours (site.css .shade-N), see through to the tiles beneath.
          var s = step(counts[feature.properties.name] || 0);
          return { color: '#505a5f', weight: 1, fillColor: SHADES[s], fillOpacity: s ? 0.55 : 0.04 };
        }
      }).addTo(map);
    });
    return map;
  }

  function locate(button, done) {
    if (!navigator.geolocation) {
      return;
    }
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.geolocation.getCurrentPosition(function (position) {
        done(round6(position.coords.latitude), round6(position.coords.longitude));
      }, function () { /* refused or unavailable: the fields remain */ }, { timeout: 10000 });
    });
  }

  // An entry form's place picker.
  document.querySelectorAll('[data-picker]').forEach(function (element) {
    var lat = document.getElementById(element.getAttribute('data-lat'));
    var lng = document.getElementById(element.getAttribute('data-lng'));
    var fieldset = element.closest('fieldset');
    var help = fieldset.querySelector('[data-picker-help]');
    if (help) { help.hidden = false; }
    var map = baseMap(element, null);
    var legend = fieldset.querySelector('legend');
    if (legend && document.querySelectorAll('[data-picker]').length > 1) {
      element.setAttribute('aria-label', legend.textContent.trim());  // one region a built object: each named apart
    }
    var marker = null;
    function show(a, b, pan) {
      if (marker) { marker.setLatLng([a, b]); } else {
        marker = L.circleMarker([a, b], { radius: 9, color: '#fff', weight: 2, fillColor: RED, fillOpacity: 1 }).addTo(map);
      }
      if (pan) { map.setView([a, b], Math.max(map.getZoom(), 14)); }
    }
    function set(a, b, pan) {
      lat.value = a;
      lng.value = b;
      show(a, b, pan);
    }
    if (lat.value && lng.value) { show(parseFloat(lat.value), parseFloat(lng.value), true); }
    map.on('click', function (event) { set(round6(event.latlng.lat), round6(event.latlng.lng), false); });
    [lat, lng].forEach(function (input) {
      input.addEventListener('change', function () {
        if (lat.value && lng.value) { show(parseFloat(lat.value), parseFloat(lng.value), true); }
      });
    });
    fieldset.querySelectorAll('[data-locate]').forEach(function (button) {
      locate(button, function (a, b) { set(a, b, true); });
    });
  });

  // A place shown (a meeting's): its point on the outlines, the page's text saying the same.
  document.querySelectorAll('[data-point-map]').forEach(function (element) {
    var point = element.getAttribute('data-point').split(',').map(parseFloat);
    var map = baseMap(element, null);
    L.circleMarker(point, { radius: 9, color: '#fff', weight: 2, fillColor: RED, fillOpacity: 1 })
      .bindTooltip(element.getAttribute('data-point-title') || '').addTo(map);
    map.setView(point, 14);
  });

  // A call's map.
  var element = document.querySelector('[data-call-map]');
  if (!element) {
    return;
  }
  var shadingSource = document.getElementById('map-shading');
  var map = baseMap(element, shadingSource ? JSON.parse(shadingSource.textContent) : null);
  var near = document.getElementById('near');
  var clusters = L.layerGroup().addTo(map);
  var walk = L.layerGroup().addTo(map);
  var minutes = parseInt(element.getAttribute('data-minutes'), 10) || 15;
  var pace = parseFloat(element.getAttribute('data-pace')) || 67;

  function drawWalk(a, b, radius) {
    walk.clearLayers();
    L.circle([a, b], { radius: radius, color: BLUE, weight: 2, fillOpacity: 0.08 }).addTo(walk);
    L.circleMarker([a, b], { radius: 6, color: '#fff', weight: 2, fillColor: BLUE, fillOpacity: 1 }).addTo(walk);
  }
  var builtSource = document.getElementById('map-built');
  if (builtSource) {
    JSON.parse(builtSource.textContent).forEach(function (b) {
      L.marker([b.lat, b.lng], {
        icon: L.divIcon({ className: 'map-built', html: '', iconSize: [18, 18] }), keyboard: false, title: b.title
      }).addTo(map);
    });
  }
  if (element.getAttribute('data-near')) {
    var point = element.getAttribute('data-near').split(',').map(parseFloat);
    var radius = parseFloat(element.getAttribute('data-radius'));
    drawWalk(point[0], point[1], radius);
    map.fitBounds(L.latLng(point[0], point[1]).toBounds(radius * 2.4));
  }

  function load() {
    var b = map.getBounds();
    var box = [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()].map(function (x) { return x.toFixed(5); });
    fetch(element.getAttribute('data-clusters') + '?bbox=' + box.join(',')).then(function (r) { return r.json(); })
      .then(function (data) {
        clusters.clearLayers();
        data.features.forEach(function (f) {
          var c = f.geometry.coordinates;
          var count = f.properties.count;
          var icon = L.divIcon({ className: 'map-cluster' + (count === 1 ? ' map-single' : ''),
                                 html: count === 1 ? '' : String(count), iconSize: count === 1 ? [16, 16] : [34, 34] });
          var marker = L.marker([c[1], c[0]], { icon: icon, keyboard: false, title: f.properties.title || String(count) });
          if (count === 1) {
            marker.on('click', function () { window.location.href = f.properties.url; });
          } else {
            marker.on('click', function () { map.setView([c[1], c[0]], map.getZoom() + 2); });
          }
          marker.addTo(clusters);
        });
      });
  }
  map.on('moveend', load);
  load();
  map.on('click', function (event) {
    var a = round6(event.latlng.lat);
    var b = round6(event.latlng.lng);
    if (near) { near.value = a + ',' + b; }
    drawWalk(a, b, minutes * pace);
  });
  document.querySelectorAll('[data-locate]').forEach(function (button) {
    locate(button, function (a, b) {
      if (near) { near.value = a + ',' + b; }
      drawWalk(a, b, minutes * pace);
      map.setView([a, b], 14);
    });
  });
}());
