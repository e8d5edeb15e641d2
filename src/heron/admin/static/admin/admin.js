// heron.admin: small progressive enhancements; every page works without them.
// Loaded as a file (no inline script), so it runs under heron's default CSP.
(function () {
  "use strict";

  function changelist() {
    var toggle = document.getElementById("action-toggle");
    var boxes = Array.prototype.slice.call(document.querySelectorAll("input.action-select"));
    var counters = document.querySelectorAll(".action-counter");
    function update() {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      boxes.forEach(function (b) { b.closest("tr").classList.toggle("selected", b.checked); });
      counters.forEach(function (c) {
        // The page gives the sentence in its language, with {sel} and {cnt} to fill.
        var text = c.dataset.text || "{sel} of {cnt} selected";
        c.textContent = text.replace("{sel}", n).replace("{cnt}", c.dataset.total);
      });
      if (toggle) { toggle.checked = n > 0 && n === boxes.length; toggle.indeterminate = n > 0 && n < boxes.length; }
    }
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    if (toggle) {
      toggle.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = toggle.checked; });
        update();
      });
    }
    update();
  }

  function filters() {
    // On a narrow screen the filters sit above the list: fold the groups where no
    // choice is made (their first link, "All", is the selected one), so the rows are
    // not pushed a screen down.  Wide again (a turned tablet): all open.
    var narrow = window.matchMedia("(max-width: 900px)");
    var groups = document.querySelectorAll(".filters details");
    function fold() {
      groups.forEach(function (group) {
        group.open = !narrow.matches || group.querySelector("li.selected:not(:first-child)") !== null;
      });
    }
    fold();
    narrow.addEventListener("change", fold);
  }

  function renumber(group) {
    var rows = group.querySelectorAll(".inline-row:not(.empty-form)");
    group.querySelector(".inline-total").value = rows.length;
  }

  function inlines() {
    document.querySelectorAll(".inline-group").forEach(function (group) {
      var prefix = group.dataset.prefix;
      var template = group.querySelector(".empty-form");
      var add = group.querySelector(".inline-add");
      if (!template || !add) { return; }
      add.addEventListener("click", function () {
        var index = group.querySelectorAll(".inline-row:not(.empty-form)").length;
        var row = template.cloneNode(true);
        row.hidden = false;
        row.classList.remove("empty-form");
        row.innerHTML = row.innerHTML.split(prefix + "-__prefix__-").join(prefix + "-" + index + "-")
          .split("id_" + prefix + "-__prefix__-").join("id_" + prefix + "-" + index + "-");
        template.parentNode.insertBefore(row, template);
        renumber(group);
        var first = row.querySelector("input:not([type=hidden]), select, textarea");
        if (first) { first.focus(); }
      });
      group.addEventListener("click", function (event) {
        var button = event.target.closest(".inline-remove");
        if (!button) { return; }
        var row = button.closest(".inline-row");
        // A new row goes; rows after it keep their numbers, so it is hidden and put
        // back as it was drawn (defaults and all), which the server skips as a blank
        // row, instead of renumbering every field.
        row.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (f) {
          if (f.type === "checkbox" || f.type === "radio") {
            f.checked = f.defaultChecked;
          } else if (f.tagName === "SELECT") {
            Array.prototype.forEach.call(f.options, function (o) { o.selected = o.defaultSelected; });
          } else {
            f.value = f.defaultValue;
          }
        });
        row.hidden = true;
        add.focus();  // the focused button is gone: keep the keyboard in the group
      });
    });
  }

  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 50);
  }

  function prepopulated() {
    document.querySelectorAll("[data-prepopulate]").forEach(function (target) {
      var form = target.form;
      var sources = target.dataset.prepopulate.split(",").map(function (name) {
        return form.querySelector("[name='" + target.name.replace(/[^-]*$/, "") + name + "']")
          || form.querySelector("[name='" + name + "']");
      }).filter(Boolean);
      var touched = target.value !== "";
      target.addEventListener("input", function () { touched = target.value !== ""; });
      sources.forEach(function (source) {
        source.addEventListener("input", function () {
          if (touched) { return; }
          target.value = slugify(sources.map(function (s) { return s.value; }).join(" "));
        });
      });
    });
  }

  function autocomplete() {
    document.querySelectorAll("select.autocomplete[data-autocomplete]").forEach(function (select) {
      var search = document.createElement("input");
      search.type = "search";
      search.className = "autocomplete-search";
      search.placeholder = select.dataset.placeholder || "Type to search";
      search.setAttribute("aria-label", (select.dataset.searchLabel || "Search {name}").replace(
        "{name}", select.labels[0] ? select.labels[0].textContent : "rows"));
      select.parentNode.insertBefore(search, select);
      var timer = null;
      search.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var url = select.dataset.autocomplete + "?term=" + encodeURIComponent(search.value);
          fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : { results: [] }; })
            .then(function (data) {
              var current = select.value;
              Array.prototype.slice.call(select.options).forEach(function (o) {
                if (o.value && o.value !== current) { o.remove(); }
              });
              data.results.forEach(function (item) {
                if (item.id === current) { return; }
                var option = document.createElement("option");
                option.value = item.id;
                option.textContent = item.text;
                select.appendChild(option);
              });
            });
        }, 250);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    changelist();
    filters();
    inlines();
    prepopulated();
    autocomplete();
  });
})();
