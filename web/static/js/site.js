// Every page: the phone menu folds behind one button, and table cells learn their column
// name so tables read as stacked cards at phone width. Pages work without this script.
(function () {
  "use strict";
  var nav = document.querySelector("header nav");
  var button = document.getElementById("menu-toggle");
  if (nav && button) {
    nav.classList.add("collapsed");
    button.addEventListener("click", function () {
      var open = nav.classList.toggle("collapsed") === false;
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  document.querySelectorAll("table").forEach(function (table) {
    var names = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (!cell.hasAttribute("data-label") && names[index]) {
          cell.setAttribute("data-label", names[index]);
        }
      });
    });
  });
})();
