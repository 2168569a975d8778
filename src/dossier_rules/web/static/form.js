/* dossier-rules pages: the form's script, served from the package (no inline script, so "script-src 'self'" holds).
   Everything it does, the pages also do without it: rows are added and removed by submitting the form. */
"use strict";
(function () {
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var add = target.closest("button[name=add]");
    if (add && addRow(add)) { event.preventDefault(); return; }
    var remove = target.closest("button[name=remove]");
    if (remove && removeRow(remove)) { event.preventDefault(); }
  });
  /* Approving and exporting ask first (the pages confirm what was done afterwards, with or without this script). */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm-button")) || (form instanceof Element && form.getAttribute("data-confirm"));
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  /* A new row is a copy of the group's template (rendered by the server, with index __i__), numbered after the last. */
  function addRow(button) {
    var group = document.getElementById("rows-" + button.value.replace(/\./g, "-"));
    var template = group && group.querySelector("template");
    if (!template) { return false; }
    var index = Number(group.getAttribute("data-next") || "0");
    group.setAttribute("data-next", String(index + 1));
    var html = template.innerHTML.split("__i__").join(String(index)).split("__n__").join(String(index + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.firstElementChild;
    template.before(row);
    var first = row.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); }
    refreshParties();
    return true;
  }

  function removeRow(button) {
    var row = button.closest("fieldset.row");
    if (!row) { return false; }
    var next = row.nextElementSibling && row.nextElementSibling.querySelector("input:not([type=hidden]), select, button");
    var rows = row.closest("fieldset.rows");
    row.remove();
    /* the last row gone, the focus goes to the group's add button rather than nowhere (the top of the page) */
    if (!next && rows) { next = rows.querySelector(":scope > button[name=add]"); }
    if (next) { next.focus(); }
    refreshParties();
    return true;
  }

  /* Payee, holder and perpetrator lists offer the parties entered in the form, as they are typed. */
  function refreshParties() {
    var parties = [];
    document.querySelectorAll("[data-party]").forEach(function (box) {
      var name = box.querySelector("[data-party-name]");
      var id = box.getAttribute("data-party");
      var role = box.getAttribute("data-party-role");
      var japanese = document.documentElement.lang === "ja";
      var words = name && name.value.trim();
      if (words) { parties.push([id, role ? words + (japanese ? "（" + role + "）" : " (" + role + ")") : words]); }
    });
    document.querySelectorAll("select[data-party-pick]").forEach(function (select) {
      var chosen = select.value;
      Array.prototype.slice.call(select.options).forEach(function (option) {
        if (option.hasAttribute("data-entered")) { option.remove(); }
      });
      var other = select.querySelector("option[value=other]");
      parties.forEach(function (party) {
        var option = document.createElement("option");
        option.value = party[0];
        option.textContent = party[1];
        option.setAttribute("data-entered", "");
        select.insertBefore(option, other);
      });
      select.value = chosen;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target instanceof Element && event.target.hasAttribute("data-party-name")) { refreshParties(); }
  });

  /* A long list of check boxes (the languages: about 180) is one stop for Tab, not 180: the arrow keys, Home and End
     move within it and Space ticks, as in a list box (a roving tabindex). Without the script every box is a stop. */
  var MOVES = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 };
  function rove(group) {
    var boxes = Array.prototype.slice.call(group.querySelectorAll("input[type=checkbox]"));
    if (boxes.length < 2) { return; }
    var current = boxes.filter(function (box) { return box.checked; })[0] || boxes[0];
    boxes.forEach(function (box) { box.tabIndex = box === current ? 0 : -1; });
    group.addEventListener("keydown", function (event) {
      var at = boxes.indexOf(event.target);
      if (at < 0) { return; }
      var to = event.key === "Home" ? 0 : event.key === "End" ? boxes.length - 1 : MOVES[event.key] === undefined ? -1 : at + MOVES[event.key];
      if (to < 0 || to >= boxes.length) { return; }
      event.preventDefault();
      boxes[at].tabIndex = -1;
      boxes[to].tabIndex = 0;
      boxes[to].focus();
    });
  }
  document.querySelectorAll(".multi .choices").forEach(rove);
})();
