/* heron.auth: passkeys (WebAuthn) in the browser.

   Loaded by the login page, the second login step and the security page, under the
   default Content-Security-Policy (a script of this site, no inline code).  It
   looks for:

   - [data-passkey-login]: a "Log in with a passkey" / "Use a passkey" block whose
     [data-passkey-start] button asks the server for options (data-options-url),
     runs navigator.credentials.get() and posts the answer (data-url); the server
     answers {"redirect": url}.
   - form[data-passkey-register]: the security page's "add a passkey" form: the
     same with navigator.credentials.create(), the name (and the password when the
     form asks for it) sent along.

   Both carry the CSRF token (data-csrf-token, sent in the data-csrf-header
   header).  They start hidden and are shown only where the browser supports
   WebAuthn; [data-passkey-unsupported] notes are hidden then.  Messages go to the
   block's [data-passkey-message] element (aria-live). */
(function () {
  "use strict";
  if (window.heronPasskeys) return;  // the script included twice: set up once
  window.heronPasskeys = true;

  var supported = typeof window.PublicKeyCredential === "function" &&
    !!navigator.credentials && typeof navigator.credentials.get === "function";

  function toBuffer(text) {
    var base64 = String(text).replace(/-/g, "+").replace(/_/g, "/");
    base64 += "===".slice((base64.length + 3) % 4);
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBuffer(item.id) });
    });
  }

  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: toBuffer(json.challenge),
      user: Object.assign({}, json.user, { id: toBuffer(json.user.id) }),
      excludeCredentials: descriptors(json.excludeCredentials)
    });
  }

  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: toBuffer(json.challenge),
      allowCredentials: descriptors(json.allowCredentials)
    });
  }

  /* The credential as the JSON the server reads (WebAuthn's RegistrationResponseJSON
     and AuthenticationResponseJSON), built by hand: toJSON() is not everywhere yet. */
  function credentialJSON(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (credential.authenticatorAttachment) {
      json.authenticatorAttachment = credential.authenticatorAttachment;
    }
    if (response.attestationObject) {
      json.response.attestationObject = toText(response.attestationObject);
      json.response.transports = typeof response.getTransports === "function"
        ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toText(response.authenticatorData);
      json.response.signature = toText(response.signature);
      if (response.userHandle) json.response.userHandle = toText(response.userHandle);
    }
    return json;
  }

  /* The page's sentences (auth/_passkey_messages.html), in its language; English if absent. */
  var messages = (function () {
    var data = document.querySelector("[data-passkey-messages]");
    try { return data ? JSON.parse(data.dataset.passkeyMessages) : {}; } catch (e) { return {}; }
  }());
  function text(key, english) { return messages[key] || english; }

  function post(block, url, body) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (block.dataset.csrfToken) {
      headers[block.dataset.csrfHeader || "X-CSRF-Token"] = block.dataset.csrfToken;
    }
    return fetch(url, {
      method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body)
    }).then(function (answer) {
      return answer.json().catch(function () { return {}; }).then(function (data) {
        if (!answer.ok) {
          throw new Error(data.error || text("refused", "The server refused it ({status}). " +
                          "Reload the page and try again.").replace("{status}", answer.status));
        }
        return data;
      });
    });
  }

  /* What a browser's refusal means, for people. */
  function browserMessage(error) {
    switch (error && error.name) {
      case "NotAllowedError":
        return text("cancelled", "The passkey request was cancelled or timed out. " +
                    "Try again when you are ready.");
      case "InvalidStateError":
        return text("known", "This device already holds a passkey for your account.");
      case "SecurityError":
        return text("insecure", "Passkeys do not work on this address: the site needs HTTPS " +
                    "(or localhost), and a host that matches its passkey settings.");
      case "NotSupportedError":
        return text("unsupported", "This device has no passkey this site can use.");
      case "AbortError":
        return text("stopped", "The passkey request was stopped.");
      default:
        return (error && error.message) || text("failed", "The passkey request failed.");
    }
  }

  function say(block, text, isError) {
    var box = block.querySelector("[data-passkey-message]");
    if (!box) return;
    // The region stays in the page (empty when quiet): screen readers announce changes
    // to a live region they already know.
    box.textContent = text;
    box.classList.toggle("passkey-error", !!isError);
  }

  function busy(block, on) {
    block.querySelectorAll("button").forEach(function (button) { button.disabled = on; });
    block.setAttribute("aria-busy", on ? "true" : "false");
  }

  function fail(block, error) {
    busy(block, false);
    say(block, error instanceof DOMException ? browserMessage(error) : error.message, true);
  }

  function startLogin(block) {
    busy(block, true);
    say(block, text("waiting", "Waiting for your passkey…"), false);
    post(block, block.dataset.optionsUrl, {})
      .then(function (options) {
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      })
      .then(function (credential) {
        say(block, text("checking", "Checking…"), false);
        return post(block, block.dataset.url,
                    { credential: credentialJSON(credential), next: block.dataset.next || "" });
      })
      .then(function (data) { window.location.assign(data.redirect); })
      .catch(function (error) { fail(block, error); });
  }

  function register(form) {
    var name = form.elements.namedItem("name");
    var password = form.elements.namedItem("password");
    busy(form, true);
    say(form, text("prompt", "Follow your browser's prompt to make the passkey…"), false);
    post(form, form.dataset.optionsUrl,
         { password: password ? password.value : "", name: name ? name.value : "" })
      .then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      })
      .then(function (credential) {
        say(form, text("saving", "Saving…"), false);
        return post(form, form.dataset.url,
                    { credential: credentialJSON(credential), name: name ? name.value : "" });
      })
      .then(function (data) { window.location.assign(data.redirect); })
      .catch(function (error) { fail(form, error); });
  }

  function setUp() {
    if (!supported) return;  // the blocks stay hidden; the other ways to log in remain
    document.querySelectorAll("[data-passkey-unsupported]").forEach(function (note) {
      note.hidden = true;
    });
    document.querySelectorAll("[data-passkey-login]").forEach(function (block) {
      block.hidden = false;
      var button = block.querySelector("[data-passkey-start]");
      if (button) button.addEventListener("click", function () { startLogin(block); });
    });
    document.querySelectorAll("form[data-passkey-register]").forEach(function (form) {
      form.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        register(form);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
