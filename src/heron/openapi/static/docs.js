/* heron's API docs viewer: reads the app's OpenAPI 3.1 document and shows it.
 *
 * Operations are grouped by tag; each opens to its description, parameters,
 * request body and responses (schemas drawn as nested lists), and a "Try it"
 * form that sends the request to this site with fetch and shows the answer.
 *
 * Built with DOM calls only (text is never parsed as HTML; no eval, no inline
 * handlers), so it runs under heron's default Content-Security-Policy and what
 * the document says cannot inject markup.  No dependencies.
 */
(function () {
  "use strict";

  var main = document.getElementById("hd-main");
  if (!main) {
    return;
  }
  var SPEC_URL = main.getAttribute("data-openapi-url");
  var METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];
  var BODYLESS = ["GET", "HEAD", "OPTIONS", "TRACE"];
  var MAX_DEPTH = 8;
  var doc = null;
  var uid = 0;

  // -- small DOM helpers -------------------------------------------------------

  function el(tag, attrs) {
    var node = document.createElement(tag);
    var key;
    for (key in attrs || {}) {
      if (!Object.prototype.hasOwnProperty.call(attrs, key) || attrs[key] == null) {
        continue;
      }
      if (key === "text") {
        node.textContent = attrs[key];
      } else if (key === "className") {
        node.className = attrs[key];
      } else {
        node.setAttribute(key, attrs[key] === true ? "" : String(attrs[key]));
      }
    }
    for (var i = 2; i < arguments.length; i++) {
      append(node, arguments[i]);
    }
    return node;
  }

  function append(node, child) {
    if (child == null || child === false) {
      return;
    }
    if (Array.isArray(child)) {
      child.forEach(function (c) { append(node, c); });
    } else {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }

  function nextId(prefix) {
    uid += 1;
    return "hd-" + prefix + "-" + uid;
  }

  function paragraphs(text, className) {
    return String(text).split(/\n\s*\n/).map(function (part) {
      return el("p", { className: className || "hd-text", text: part.trim() });
    });
  }

  // -- schemas -----------------------------------------------------------------

  function refName(ref) {
    return decodeURIComponent(String(ref).split("/").pop().replace(/~1/g, "/").replace(/~0/g, "~"));
  }

  function resolve(schema) {
    var seen = 0;
    while (schema && schema.$ref && seen < 20) {
      var target = ((doc.components || {}).schemas || {})[refName(schema.$ref)];
      if (!target) {
        return {};
      }
      var rest = Object.assign({}, schema);
      delete rest.$ref;
      schema = Object.assign({}, target, rest);
      seen += 1;
    }
    return schema || {};
  }

  function variants(schema) {
    return schema.anyOf || schema.oneOf || null;
  }

  function typeLabel(schema, depth) {
    depth = depth || 0;
    if (!schema || depth > MAX_DEPTH) {
      return "any";
    }
    if (schema.$ref) {
      var target = resolve(schema);
      return refName(schema.$ref) + (target.enum ? " (" + typeLabel({ enum: target.enum }) + ")" : "");
    }
    var parts = variants(schema);
    if (parts) {
      return parts.map(function (s) { return typeLabel(s, depth + 1); }).join(" | ");
    }
    if (schema.allOf && schema.allOf.length === 1) {
      return typeLabel(schema.allOf[0], depth + 1);
    }
    if (schema.const !== undefined) {
      return JSON.stringify(schema.const);
    }
    if (schema.enum) {
      return schema.enum.map(function (v) { return JSON.stringify(v); }).join(" | ");
    }
    var type = schema.type;
    if (Array.isArray(type)) {
      return type.join(" | ");
    }
    if (type === "array") {
      return "array of " + typeLabel(schema.items || {}, depth + 1);
    }
    if (type === "object" && schema.additionalProperties && !schema.properties) {
      return "object of " + typeLabel(schema.additionalProperties, depth + 1);
    }
    if (!type) {
      return schema.properties ? "object" : "any";
    }
    return schema.format ? type + " (" + schema.format + ")" : type;
  }

  var CONSTRAINTS = [
    ["minimum", "≥ "], ["exclusiveMinimum", "> "], ["maximum", "≤ "], ["exclusiveMaximum", "< "],
    ["multipleOf", "multiple of "], ["minLength", "min length "], ["maxLength", "max length "],
    ["pattern", "pattern "], ["minItems", "min items "], ["maxItems", "max items "]
  ];

  function notes(schema) {
    var items = [];
    CONSTRAINTS.forEach(function (pair) {
      if (schema[pair[0]] !== undefined) {
        items.push(pair[1] + (pair[0] === "pattern" ? schema.pattern : JSON.stringify(schema[pair[0]])));
      }
    });
    if (schema.uniqueItems) {
      items.push("unique items");
    }
    if (schema.default !== undefined) {
      items.push("default " + JSON.stringify(schema.default));
    }
    if (schema.examples && schema.examples.length) {
      items.push("e.g. " + schema.examples.map(function (v) { return JSON.stringify(v); }).join(", "));
    }
    if (schema.deprecated) {
      items.push("deprecated");
    }
    return items;
  }

  function notesNode(schema) {
    var items = notes(schema);
    return items.length ? el("span", { className: "hd-notes", text: items.join(" · ") }) : null;
  }

  /* A schema as a readable tree: the type, then the fields of objects (models
   * expanded once per branch, so recursive models stop). */
  function schemaView(schema, chain, depth) {
    chain = chain || [];
    depth = depth || 0;
    var box = el("div", { className: "hd-schema" });
    var name = schema && schema.$ref ? refName(schema.$ref) : null;
    var resolved = resolve(schema);
    var head = el("p", { className: "hd-schema-head" },
      el("span", { className: "hd-type", text: typeLabel(schema) }), " ", notesNode(resolved));
    box.appendChild(head);
    if (resolved.description && depth === 0) {
      append(box, paragraphs(resolved.description, "hd-text hd-muted"));
    }
    if (name && chain.indexOf(name) >= 0) {
      return box;
    }
    var inner = body(resolved, name ? chain.concat([name]) : chain, depth);
    append(box, inner);
    return box;
  }

  function body(schema, chain, depth) {
    if (depth > MAX_DEPTH) {
      return null;
    }
    if (schema.properties) {
      return propertiesList(schema, chain, depth);
    }
    if (schema.type === "array" && schema.items) {
      var items = resolve(schema.items);
      return items.properties ? nested(schema.items, chain, depth) : null;
    }
    var parts = variants(schema) || (schema.allOf && schema.allOf.length > 1 ? schema.allOf : null);
    if (parts) {
      var shown = parts.filter(function (part) { return resolve(part).properties; });
      return shown.length ? shown.map(function (part) { return nested(part, chain, depth); }) : null;
    }
    return null;
  }

  function nested(schema, chain, depth) {
    var name = schema.$ref ? refName(schema.$ref) : null;
    if (name && chain.indexOf(name) >= 0) {
      return el("p", { className: "hd-muted", text: name + " (as above)" });
    }
    return body(resolve(schema), name ? chain.concat([name]) : chain, depth + 1);
  }

  function propertiesList(schema, chain, depth) {
    var required = schema.required || [];
    var list = el("ul", { className: "hd-props" });
    Object.keys(schema.properties).forEach(function (key) {
      var prop = schema.properties[key];
      var resolved = resolve(prop);
      var item = el("li", null,
        el("code", { className: "hd-prop-name", text: key }), " ",
        el("span", { className: "hd-type", text: typeLabel(prop) }),
        required.indexOf(key) >= 0 ? el("span", { className: "hd-required", text: "required" }) : null,
        " ", notesNode(resolved));
      var description = prop.description || (prop.$ref ? null : resolved.description);
      if (description) {
        item.appendChild(el("div", { className: "hd-muted", text: description }));
      }
      append(item, nested(prop, chain, depth));
      list.appendChild(item);
    });
    return list;
  }

  function example(schema, depth) {
    depth = depth || 0;
    var s = resolve(schema);
    if (depth > 5) {
      return null;
    }
    if (s.examples && s.examples.length) {
      return s.examples[0];
    }
    if (s.example !== undefined) {
      return s.example;
    }
    if (s.default !== undefined) {
      return s.default;
    }
    if (s.const !== undefined) {
      return s.const;
    }
    if (s.enum && s.enum.length) {
      return s.enum[0];
    }
    var parts = variants(s);
    if (parts) {
      var first = parts.filter(function (p) { return resolve(p).type !== "null"; })[0];
      return first ? example(first, depth + 1) : null;
    }
    if (s.allOf && s.allOf.length) {
      return example(s.allOf[0], depth + 1);
    }
    var type = Array.isArray(s.type) ? s.type.filter(function (t) { return t !== "null"; })[0] : s.type;
    if (type === "object" || (!type && s.properties)) {
      var out = {};
      Object.keys(s.properties || {}).forEach(function (key) {
        out[key] = example(s.properties[key], depth + 1);
      });
      return out;
    }
    if (type === "array") {
      return s.items ? [example(s.items, depth + 1)] : [];
    }
    if (type === "integer" || type === "number") {
      var low = s.minimum !== undefined ? s.minimum : (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 0);
      return low;
    }
    if (type === "boolean") {
      return true;
    }
    if (type === "null") {
      return null;
    }
    if (type === "string") {
      return { "date": "2024-01-31", "date-time": "2024-01-31T12:00:00Z", "time": "12:00:00",
        "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "email": "user@example.com",
        "uri": "https://example.com/" }[s.format] || "string";
    }
    return null;
  }

  // -- an operation ------------------------------------------------------------

  function parametersTable(parameters) {
    var table = el("table", { className: "hd-table" },
      el("caption", { text: "Parameters" }),
      el("thead", null, el("tr", null,
        ["Name", "In", "Type", "Required", "Description"].map(function (h) {
          return el("th", { scope: "col", text: h });
        }))));
    var rows = el("tbody");
    parameters.forEach(function (p) {
      var schema = p.schema || {};
      var description = p.description || resolve(schema).description || "";
      rows.appendChild(el("tr", null,
        el("th", { scope: "row" }, el("code", { text: p.name }),
          p.deprecated ? el("span", { className: "hd-badge", text: "deprecated" }) : null),
        el("td", { text: p.in }),
        el("td", null, el("span", { className: "hd-type", text: typeLabel(schema) })),
        el("td", { text: p.required ? "yes" : "no" }),
        el("td", null, description ? el("span", { text: description + " " }) : null,
          notesNode(resolve(schema)))));
    });
    table.appendChild(rows);
    return el("div", { className: "hd-table-wrap" }, table);
  }

  function contentView(content) {
    return Object.keys(content || {}).map(function (media) {
      var entry = content[media] || {};
      return el("div", { className: "hd-media" },
        el("p", { className: "hd-media-type" }, el("code", { text: media })),
        entry.schema ? schemaView(entry.schema) : null);
    });
  }

  function responsesView(responses) {
    var list = el("dl", { className: "hd-responses" });
    Object.keys(responses || {}).forEach(function (code) {
      var response = responses[code] || {};
      var cls = "hd-status-code hd-status-" + String(code).charAt(0);
      list.appendChild(el("dt", null, el("span", { className: cls, text: String(code) }), " ",
        response.description || ""));
      var content = contentView(response.content);
      if (content.length && /^[45]/.test(code)) {
        // Error answers share a few schemas: shown on demand, not each time.
        content = el("details", { className: "hd-more" }, el("summary", { text: "Schema" }), content);
      }
      list.appendChild(el("dd", null, content));
    });
    return list;
  }

  function operationBody(path, method, op) {
    var parts = [];
    if (op.deprecated) {
      parts.push(el("p", { className: "hd-warning", text: "Deprecated: avoid in new code." }));
    }
    if (op.description) {
      parts.push(paragraphs(op.description));
    }
    if (op.security && op.security.length) {
      parts.push(el("p", { className: "hd-muted", text: "Requires authentication: " +
        op.security.map(function (req) { return Object.keys(req).join(" + "); }).join(" or ") + "." }));
    }
    var parameters = op.parameters || [];
    if (parameters.length) {
      parts.push(parametersTable(parameters));
    }
    if (op.requestBody) {
      parts.push(el("h4", { text: "Request body" + (op.requestBody.required ? " (required)" : "") }));
      if (op.requestBody.description) {
        parts.push(paragraphs(op.requestBody.description));
      }
      parts.push(contentView(op.requestBody.content));
    }
    parts.push(el("h4", { text: "Responses" }));
    parts.push(responsesView(op.responses));
    parts.push(tryForm(path, method, op));
    return parts;
  }

  function operationView(path, method, op) {
    var id = "op-" + (op.operationId || (method + path)).replace(/[^A-Za-z0-9_-]/g, "_");
    var details = el("details", { className: "hd-op hd-op-" + method, id: id });
    details.setAttribute("data-search", [method, path, op.summary || "", op.operationId || "",
      (op.tags || []).join(" ")].join(" ").toLowerCase());
    var summary = el("summary", null,
      el("span", { className: "hd-method hd-method-" + method, text: method.toUpperCase() }), " ",
      el("code", { className: "hd-path", text: path }), " ",
      op.summary ? el("span", { className: "hd-summary", text: op.summary }) : null,
      op.deprecated ? el("span", { className: "hd-badge", text: "deprecated" }) : null,
      op.security && op.security.length ? el("span", { className: "hd-badge", text: "auth" }) : null);
    details.appendChild(summary);
    var filled = false;
    function fill() {
      if (!filled) {
        filled = true;
        details.appendChild(el("div", { className: "hd-op-body" }, operationBody(path, method, op)));
      }
    }
    details.addEventListener("toggle", function () {
      if (details.open) {
        fill();
      }
    });
    return details;
  }

  // -- try it ------------------------------------------------------------------

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.getAttribute("content")) {
      return { header: meta.getAttribute("data-header") || "X-CSRF-Token", token: meta.getAttribute("content") };
    }
    var match = document.cookie.match(/(?:^|;\s*)csrf_token=([^;]+)/);
    return match ? { header: "X-CSRF-Token", token: decodeURIComponent(match[1]) } : null;
  }

  function basePath() {
    var server = (doc.servers || [])[0];
    if (!server || !server.url) {
      return "";
    }
    var url = new URL(server.url, location.href);
    return url.origin === location.origin ? url.pathname.replace(/\/$/, "") : null;
  }

  function field(labelText, hint, control) {
    var id = control.id || nextId("f");
    control.id = id;
    var hintNode = null;
    if (hint) {
      var hintId = id + "-hint";
      hintNode = el("span", { className: "hd-hint", id: hintId, text: hint });
      control.setAttribute("aria-describedby", hintId);
    }
    return el("div", { className: "hd-field" }, el("label", { for: id, text: labelText }), hintNode, control);
  }

  function inputFor(schema, name, required) {
    var s = resolve(schema);
    var parts = variants(s);
    if (parts) {
      var concrete = parts.filter(function (p) { return resolve(p).type !== "null"; });
      if (concrete.length === 1) {
        s = resolve(concrete[0]);
      }
    }
    var values = s.enum || (s.type === "boolean" ? [true, false] : null);
    if (values) {
      var select = el("select", { name: name });
      select.appendChild(el("option", { value: "", text: required ? "(choose)" : "(not sent)" }));
      values.forEach(function (v) {
        select.appendChild(el("option", { value: String(v), text: String(v) }));
      });
      return select;
    }
    if (s.type === "string" && s.format === "binary") {
      return el("input", { type: "file", name: name });
    }
    var input = el("input", { type: "text", name: name, autocomplete: "off", spellcheck: "false" });
    if (s.type === "integer" || s.type === "number") {
      input.setAttribute("inputmode", s.type === "integer" ? "numeric" : "decimal");
    }
    if (required) {
      input.required = true;
    }
    return input;
  }

  function paramHint(p) {
    var s = resolve(p.schema || {});
    var bits = [p.in + (p.required ? ", required" : "")];
    if (s.type === "array") {
      bits.push("comma-separated values");
    }
    bits.push(typeLabel(p.schema || {}));
    return bits.join(" · ");
  }

  function tryForm(path, method, op) {
    var headingId = nextId("try");
    var form = el("form", { className: "hd-try", "aria-labelledby": headingId, novalidate: true });
    form.appendChild(el("h4", { id: headingId, text: "Try it" }));
    var controls = [];
    var cookies = [];
    (op.parameters || []).forEach(function (p) {
      if (p.in === "cookie") {
        cookies.push(p.name);
        return;
      }
      var control = inputFor(p.schema || {}, p.name, p.required);
      var s = resolve(p.schema || {});
      if (s.default !== undefined && control.tagName === "INPUT" && control.type === "text") {
        control.placeholder = Array.isArray(s.default) ? s.default.join(",") : String(s.default);
      }
      controls.push({ param: p, control: control, array: s.type === "array" });
      form.appendChild(field(p.name, paramHint(p), control));
    });
    if (cookies.length) {
      form.appendChild(el("p", { className: "hd-muted", text: "Cookies (" + cookies.join(", ") +
        ") are the ones your browser holds for this site." }));
    }
    var body = bodyControls(op.requestBody, form);
    var token = null;
    if (op.security && op.security.length) {
      token = el("input", { type: "password", name: "bearer-token", autocomplete: "off" });
      form.appendChild(field("Bearer token", "optional; else your session cookie is used", token));
    }
    var button = el("button", { type: "submit", className: "hd-send", text: "Send request" });
    form.appendChild(button);
    var output = el("div", { className: "hd-result", role: "status", "aria-live": "polite" });
    form.appendChild(output);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(path, method, controls, body, token, output, button);
    });
    return form;
  }

  function bodyControls(requestBody, form) {
    if (!requestBody || !requestBody.content) {
      return null;
    }
    var medias = Object.keys(requestBody.content);
    var json = medias.filter(function (m) { return /json/.test(m); })[0];
    if (json) {
      var schema = requestBody.content[json].schema || {};
      var area = el("textarea", { name: "body", rows: "8", spellcheck: "false", className: "hd-code" });
      area.value = JSON.stringify(example(schema), null, 2);
      form.appendChild(field("Body (" + json + ")", requestBody.required ? "required" : "optional", area));
      return { kind: "json", media: json, control: area };
    }
    var media = medias.filter(function (m) { return /form/.test(m); })[0];
    if (!media) {
      return null;
    }
    var s = resolve(requestBody.content[media].schema || {});
    var required = s.required || [];
    var fields = [];
    var group = el("fieldset", { className: "hd-fieldset" }, el("legend", { text: "Body (" + media + ")" }));
    Object.keys(s.properties || {}).forEach(function (name) {
      var prop = s.properties[name];
      var control = inputFor(prop, name, required.indexOf(name) >= 0);
      fields.push({ name: name, control: control, array: resolve(prop).type === "array" });
      group.appendChild(field((prop.title || name), (required.indexOf(name) >= 0 ? "required · " : "") +
        typeLabel(prop), control));
    });
    form.appendChild(group);
    return { kind: media === "multipart/form-data" ? "multipart" : "urlencoded", media: media, fields: fields };
  }

  function splitList(text) {
    return text.split(",").map(function (v) { return v.trim(); }).filter(function (v) { return v !== ""; });
  }

  function buildRequest(path, method, controls, body, token) {
    var base = basePath();
    if (base === null) {
      throw new Error("this page only sends requests to its own site, not to " + doc.servers[0].url);
    }
    var query = new URLSearchParams();
    var headers = new Headers({ Accept: "application/json, */*;q=0.5" });
    var filled = path;
    controls.forEach(function (c) {
      var value = c.control.value;
      var p = c.param;
      if (value === "") {
        if (p.in === "path" || p.required) {
          throw new Error("give a value for " + p.name);
        }
        return;
      }
      if (p.in === "path") {
        filled = filled.split("{" + p.name + "}").join(encodeURIComponent(value));
      } else if (p.in === "query") {
        (c.array ? splitList(value) : [value]).forEach(function (v) { query.append(p.name, v); });
      } else if (p.in === "header") {
        headers.set(p.name, value);
      }
    });
    var init = { method: method.toUpperCase(), headers: headers, credentials: "same-origin", redirect: "follow" };
    if (body && BODYLESS.indexOf(init.method) < 0) {
      if (body.kind === "json") {
        if (body.control.value.trim() !== "") {
          JSON.parse(body.control.value); // a typo is caught here, not by the server
          init.body = body.control.value;
          headers.set("Content-Type", body.media);
        }
      } else {
        var data = body.kind === "multipart" ? new FormData() : new URLSearchParams();
        body.fields.forEach(function (f) {
          if (f.control.type === "file") {
            Array.prototype.forEach.call(f.control.files || [], function (file) { data.append(f.name, file); });
          } else if (f.control.value !== "") {
            (f.array ? splitList(f.control.value) : [f.control.value]).forEach(function (v) { data.append(f.name, v); });
          }
        });
        init.body = data;
      }
    }
    if (token && token.value.trim()) {
      headers.set("Authorization", "Bearer " + token.value.trim());
    }
    var search = query.toString();
    var url = new URL(base + filled + (search ? "?" + search : ""), location.href);
    if (url.origin !== location.origin) {
      throw new Error("this page only sends requests to its own site");
    }
    if (BODYLESS.indexOf(init.method) < 0) {
      var protection = csrf();
      if (protection) {
        headers.set(protection.header, protection.token);
      }
    }
    return { url: url, init: init };
  }

  function send(path, method, controls, body, token, output, button) {
    output.textContent = "";
    var request;
    try {
      request = buildRequest(path, method, controls, body, token);
    } catch (error) {
      output.appendChild(el("p", { className: "hd-error", text: "Not sent: " + error.message }));
      return;
    }
    button.disabled = true;
    var started = performance.now();
    fetch(request.url.href, request.init).then(function (response) {
      return response.text().then(function (text) {
        showResponse(output, request, response, text, performance.now() - started);
      });
    }).catch(function (error) {
      output.appendChild(el("p", { className: "hd-error", text: "The request failed: " + error.message }));
    }).then(function () {
      button.disabled = false;
    });
  }

  function showResponse(output, request, response, text, elapsed) {
    var shown = text;
    var type = response.headers.get("content-type") || "";
    if (/json/.test(type) && text) {
      try {
        shown = JSON.stringify(JSON.parse(text), null, 2);
      } catch (ignored) {
        shown = text;
      }
    }
    var headerLines = [];
    response.headers.forEach(function (value, name) { headerLines.push(name + ": " + value); });
    output.appendChild(el("p", { className: "hd-result-line" },
      el("span", { className: "hd-status-code hd-status-" + String(response.status).charAt(0),
        text: response.status + (response.statusText ? " " + response.statusText : "") }),
      " " + request.init.method + " " + request.url.pathname + request.url.search +
      " · " + Math.round(elapsed) + " ms"));
    output.appendChild(el("h5", { text: "Response headers" }));
    output.appendChild(el("pre", { className: "hd-code hd-headers", tabindex: "0", text: headerLines.join("\n") }));
    output.appendChild(el("h5", { text: "Response body" }));
    output.appendChild(el("pre", { className: "hd-code hd-body", tabindex: "0", text: shown || "(empty)" }));
  }

  // -- the page ----------------------------------------------------------------

  function groups() {
    var byTag = {};
    var order = ((doc.tags || []).map(function (t) { return t.name; }));
    Object.keys(doc.paths || {}).forEach(function (path) {
      var item = doc.paths[path] || {};
      METHODS.forEach(function (method) {
        var op = item[method];
        if (!op) {
          return;
        }
        (op.tags && op.tags.length ? op.tags : ["default"]).forEach(function (tag) {
          if (!byTag[tag]) {
            byTag[tag] = [];
            if (order.indexOf(tag) < 0) {
              order.push(tag);
            }
          }
          byTag[tag].push([path, method, op]);
        });
      });
    });
    return order.filter(function (tag) { return byTag[tag]; }).map(function (tag) {
      var info = (doc.tags || []).filter(function (t) { return t.name === tag; })[0] || {};
      return { name: tag, description: info.description, operations: byTag[tag] };
    });
  }

  function filterBox(sections) {
    var input = el("input", { type: "search", id: "hd-filter", autocomplete: "off" });
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      sections.forEach(function (section) {
        var visible = 0;
        Array.prototype.forEach.call(section.querySelectorAll("details.hd-op"), function (op) {
          var text = op.getAttribute("data-search");
          var show = words.every(function (w) { return text.indexOf(w) >= 0; });
          op.hidden = !show;
          visible += show ? 1 : 0;
        });
        section.hidden = visible === 0;
      });
    });
    return el("div", { className: "hd-filter" }, el("label", { for: "hd-filter", text: "Filter operations" }), input);
  }

  function render() {
    main.textContent = "";
    var info = doc.info || {};
    var intro = el("div", { className: "hd-intro" },
      el("p", { className: "hd-muted", text: "Version " + (info.version || "?") + " · OpenAPI " + (doc.openapi || "") }));
    if (info.description) {
      append(intro, paragraphs(info.description));
    }
    main.appendChild(intro);
    var tagged = groups();
    if (!tagged.length) {
      main.appendChild(el("p", { className: "hd-status", role: "status", text: "This API has no operations yet." }));
      return;
    }
    var nav = el("nav", { className: "hd-toc", "aria-label": "Tags" });
    var navList = el("ul");
    var sections = [];
    tagged.forEach(function (group, index) {
      var sectionId = "tag-" + index;
      navList.appendChild(el("li", null, el("a", { href: "#" + sectionId, text: group.name })));
      var headingId = sectionId + "-h";
      var section = el("section", { className: "hd-tag", id: sectionId, "aria-labelledby": headingId },
        el("h2", { id: headingId, text: group.name }));
      if (group.description) {
        append(section, paragraphs(group.description, "hd-text hd-muted"));
      }
      group.operations.forEach(function (entry) {
        section.appendChild(operationView(entry[0], entry[1], entry[2]));
      });
      sections.push(section);
    });
    nav.appendChild(navList);
    main.appendChild(nav);
    main.appendChild(filterBox(sections));
    sections.forEach(function (section) { main.appendChild(section); });
    openFromHash();
  }

  function openFromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (target && target.tagName === "DETAILS") {
      target.open = true;
      target.scrollIntoView();
    }
  }

  function fail(message) {
    main.textContent = "";
    main.appendChild(el("p", { className: "hd-error", role: "alert", text: message }));
  }

  window.addEventListener("hashchange", openFromHash);
  fetch(SPEC_URL, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error(response.status + " " + response.statusText);
      }
      return response.json();
    })
    .then(function (loaded) {
      doc = loaded;
      render();
    })
    .catch(function (error) {
      fail("Could not load the API description from " + SPEC_URL + ": " + error.message);
    });
}());
