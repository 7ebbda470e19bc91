// Progressive enhancement of the search page: "use my location" and a Leaflet map.
// The page works without this script (type coordinates; the list shows every result).
(function () {
  "use strict";

  var tz = document.getElementById("f-tz");
  if (tz && (!tz.value || tz.value === "UTC") && window.Intl) {
    tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  }

  var button = document.getElementById("use-location");
  var status = document.getElementById("location-status");
  if (button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = "Finding your location…";
      navigator.geolocation.getCurrentPosition(function (position) {
        document.getElementById("f-place").value = "";
        document.getElementById("f-lat").value = position.coords.latitude.toFixed(5);
        document.getElementById("f-lon").value = position.coords.longitude.toFixed(5);
        status.textContent = "Location found.";
      }, function (error) {
        status.textContent = "Could not get your location: " + error.message;
      });
    });
  }

  // A place typed replaces coordinates of an earlier search (coordinates win when both are set).
  var place = document.getElementById("f-place");
  if (place) {
    place.addEventListener("input", function () {
      document.getElementById("f-lat").value = "";
      document.getElementById("f-lon").value = "";
    });
  }

  var data = document.getElementById("map-data");
  var box = document.getElementById("map");
  if (!data || !box || !window.L) {
    return;
  }
  var parsed = JSON.parse(data.textContent);
  box.classList.add("ready");
  var map = L.map(box).setView(parsed.center, 12);
  var tiles = L.tileLayer(box.getAttribute("data-tiles"), {
    maxZoom: 19,
    attribution: box.getAttribute("data-attribution")
  });
  // With no internet the tiles fail: say so, the markers and the list still work.
  var loaded = 0;
  tiles.on("tileload", function () { loaded += 1; });
  tiles.on("tileerror", function () {
    if (loaded === 0) {
      document.getElementById("map-notice").hidden = false;
      box.classList.add("no-tiles");
    }
  });
  tiles.addTo(map);
  L.circleMarker(parsed.center, { radius: 6 }).addTo(map).bindTooltip("Search centre");
  var bounds = [parsed.center];
  parsed.markers.forEach(function (marker) {
    var link = document.createElement("a");
    link.href = marker.url;
    link.textContent = marker.name + " (" + marker.status.toLowerCase() + ", " +
      (marker.own ? "PlugPool" : "partner network " + marker.network) + ")";
    // Own chargers in PlugPool green, partner networks' in grey: told apart at a glance.
    var pin = L.circleMarker([marker.lat, marker.lon], {
      radius: 9, weight: 2, color: "#fff", fillOpacity: 0.95,
      fillColor: marker.own ? "#0a7d4f" : "#6b7280",
      className: "pin pin-" + (marker.own ? "own" : "partner")
    }).addTo(map).bindPopup(link);
    // List and map in step: hovering an entry opens its pin, clicking a pin marks its entry.
    var item = document.querySelector('li[data-location="' + marker.id + '"]');
    if (item) {
      item.addEventListener("mouseenter", function () { pin.openPopup(); });
      pin.on("click", function () {
        document.querySelectorAll("li.selected").forEach(function (el) { el.classList.remove("selected"); });
        item.classList.add("selected");
      });
    }
    bounds.push([marker.lat, marker.lon]);
  });
  if (bounds.length > 1) {
    map.fitBounds(bounds, { padding: [24, 24] });
  }
})();
