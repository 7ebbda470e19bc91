// The listing form's map: place the pin by clicking or dragging, or look the address up.
// Latitude and longitude stay plain fields, so the form works without this script.
(function () {
  "use strict";
  var box = document.getElementById("pin-map");
  var lat = document.getElementById("f-latitude");
  var lon = document.getElementById("f-longitude");
  if (!box || !lat || !lon || !window.L) {
    return;
  }
  var start = [parseFloat(lat.value) || 52.3702, parseFloat(lon.value) || 4.8952];
  box.classList.add("ready");
  document.getElementById("pin-hint").hidden = false;
  var map = L.map(box).setView(start, lat.value ? 16 : 12);
  L.tileLayer(box.getAttribute("data-tiles"), {
    maxZoom: 19, attribution: box.getAttribute("data-attribution")
  }).addTo(map);
  var pin = L.marker(start, { draggable: true, keyboard: true, title: "Charger" });
  if (lat.value && lon.value) {
    pin.addTo(map);
  }

  function place(latlng, zoom) {
    pin.setLatLng(latlng);
    if (!map.hasLayer(pin)) {
      pin.addTo(map);
    }
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    if (zoom) {
      map.setView(latlng, zoom);
    }
  }
  map.on("click", function (event) { place(event.latlng); });
  pin.on("dragend", function () { place(pin.getLatLng()); });
  [lat, lon].forEach(function (field) {
    field.addEventListener("change", function () {
      var a = parseFloat(lat.value), b = parseFloat(lon.value);
      if (!isNaN(a) && !isNaN(b)) {
        place(L.latLng(a, b), 16);
      }
    });
  });

  var button = document.getElementById("lookup-address");
  var status = document.getElementById("lookup-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    var parts = ["f-address", "f-postal_code", "f-city"].map(function (id) {
      var field = document.getElementById(id);
      return field ? field.value.trim() : "";
    }).filter(Boolean);
    status.textContent = "Looking the address up…";
    fetch(box.getAttribute("data-places-url") + "?q=" + encodeURIComponent(parts.join(", ")))
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (!data.places || !data.places.length) {
          status.textContent = data.error || "Address not found: place the pin on the map yourself.";
          return;
        }
        place(L.latLng(data.places[0].lat, data.places[0].lon), 16);
        status.textContent = "Pin placed near " + data.places[0].name + ": drag it to the exact spot.";
      })
      .catch(function () { status.textContent = "Address lookup failed: place the pin yourself."; });
  });
})();
