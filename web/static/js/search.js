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
        document.getElementById("f-lat").value = position.coords.latitude.toFixed(5);
        document.getElementById("f-lon").value = position.coords.longitude.toFixed(5);
        status.textContent = "Location found.";
      }, function (error) {
        status.textContent = "Could not get your location: " + error.message;
      });
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
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19,
    attribution: "&copy; OpenStreetMap contributors"
  }).addTo(map);
  L.circleMarker(parsed.center, { radius: 6 }).addTo(map).bindTooltip("Search centre");
  var bounds = [parsed.center];
  parsed.markers.forEach(function (marker) {
    var link = document.createElement("a");
    link.href = marker.url;
    link.textContent =
      marker.name + " · " + marker.network + " (" + marker.status.toLowerCase() + ")";
    L.marker([marker.lat, marker.lon]).addTo(map).bindPopup(link);
    bounds.push([marker.lat, marker.lon]);
  });
  if (bounds.length > 1) {
    map.fitBounds(bounds, { padding: [24, 24] });
  }
})();
