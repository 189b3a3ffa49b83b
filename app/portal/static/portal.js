// 共治 portal: small progressive enhancements only; every page works without this file.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (event.defaultPrevented) { return; }  // handled in place (the 长辈版 switch below)
  var question = form.getAttribute("data-confirm");
  var button = event.submitter || form.querySelector("button[type=submit]");
  if (!question && button) { question = button.getAttribute("data-confirm"); }
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  if (button) { setTimeout(function () { button.disabled = true; }, 0); }
});

// A canned reply picked from <select data-fill="#textarea"> is copied into that textarea.
document.addEventListener("change", function (event) {
  var select = event.target;
  var target = select.getAttribute && select.getAttribute("data-fill");
  if (!target || !select.value) { return; }
  var field = document.querySelector(target);
  if (field) { field.value = select.value; field.focus(); }
});

// "Select all" checkbox for lists with bulk actions: <input type=checkbox data-check-all="name">.
document.addEventListener("change", function (event) {
  var box = event.target;
  var name = box.getAttribute && box.getAttribute("data-check-all");
  if (!name) { return; }
  document.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (item) {
    item.checked = box.checked;
  });
});

// Photo pickers show how many photos were chosen, in Chinese (the browser's own label may not be).
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input.matches || !input.matches(".filepick input[type=file]")) { return; }
  var label = input.parentNode.querySelector(".filenames");
  if (label) { label.textContent = input.files.length ? "已选择 " + input.files.length + " 张照片" : "未选择照片"; }
});

// Photos are shrunk in the browser before upload (long side ≤ 2048 px, JPEG), so that nine phone photos
// or one 20 MB photo fit the form; each photo and the count are checked before sending, and a problem is
// shown beside the field. Without this script (or an old browser) the photos go as taken and the server
// checks each one, keeping everything typed on a refusal.
(function () {
  var MB = 1024 * 1024;

  function problemBox(input) {
    var field = input.closest(".field");
    var box = field.querySelector(".photo-problem");
    if (!box) {
      box = document.createElement("p");
      box.className = "field-error photo-problem";
      box.setAttribute("role", "alert");
      box.id = input.id + "-check";
      input.setAttribute("aria-describedby", box.id);
      field.appendChild(box);
    }
    return box;
  }

  function say(input, text) {
    var box = problemBox(input);
    box.textContent = text;
    box.hidden = !text;
    input.setCustomValidity(text);
  }

  function shrink(file, maxSide) {
    if (!window.createImageBitmap || !/^image\//.test(file.type) || file.type === "image/gif") {
      return Promise.resolve(file);
    }
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size <= 1.5 * MB) { return file; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, {type: "image/jpeg", lastModified: file.lastModified}));
        }, "image/jpeg", 0.85);
      });
    }).catch(function () { return file; });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-side]")) { return; }
    var maxSide = +input.getAttribute("data-max-side");
    var maxBytes = +input.getAttribute("data-max-bytes");
    var maxCount = +input.getAttribute("data-max-count");
    var files = Array.prototype.slice.call(input.files);
    var label = input.parentNode.querySelector(".filenames");
    var form = input.form;
    if (files.length > maxCount) {
      say(input, "选了 " + files.length + " 张照片，最多 " + maxCount + " 张，请重新选择。");
      return;
    }
    say(input, "");
    if (!files.length || typeof DataTransfer === "undefined") { return; }
    form.setAttribute("data-busy", "1");
    if (label) { label.textContent = "正在压缩 " + files.length + " 张照片…"; }
    Promise.all(files.map(function (f) { return shrink(f, maxSide); })).then(function (shrunk) {
      var list = new DataTransfer();
      var problems = [];
      shrunk.forEach(function (f, i) {
        list.items.add(f);
        if (f.size > maxBytes) {
          problems.push("第 " + (i + 1) + " 张（" + f.name + "）有 " + (f.size / MB).toFixed(1) + " MB，超过 " +
                        Math.floor(maxBytes / MB) + " MB");
        }
      });
      input.files = list.files;
      var total = shrunk.reduce(function (sum, f) { return sum + f.size; }, 0);
      if (label) {
        label.textContent = "已选择 " + shrunk.length + " 张照片，共 " + (total / MB).toFixed(1) + " MB";
      }
      say(input, problems.length ? problems.join("；") + "。请换用较小的照片。" : "");
      form.removeAttribute("data-busy");
    });
  });

  document.addEventListener("submit", function (event) {
    if (event.target.getAttribute("data-busy")) {
      event.preventDefault();
      window.alert("照片还在压缩，请稍候再提交。");
    }
  }, true);
})();

// "返回上一页" on an error page goes back in history, where the browser still holds what was typed.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("[data-back]");
  if (link && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});

// 长辈版 / 标准版: the switch in the header changes the page at once and tells the server in the background
// (which remembers it in a cookie), so nothing typed on the page is lost. Without this script the form
// posts and the server sends the same page back in the chosen mode.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches || !form.matches("form.mode-switch") || !window.fetch || !window.FormData) { return; }
  var button = event.submitter;
  if (!button || !button.value) { return; }
  event.preventDefault();
  var elder = button.value === "elder";
  document.documentElement.classList.toggle("elder", elder);
  form.querySelectorAll("button[name=mode]").forEach(function (b) {
    b.setAttribute("aria-pressed", String((b.value === "elder") === elder));
  });
  var data = new FormData(form);
  data.set("mode", button.value);
  fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                      headers: {"X-Requested-With": "fetch"}}).catch(function () {});
}, true);

// The check-in code shown on site renews itself when the minute turns: only the code and its QR are
// replaced, the page is not reloaded under the reader. Without this script a <noscript> refresh does it.
(function () {
  function schedule(card) {
    var seconds = +card.getAttribute("data-renew-in");
    if (!seconds) { return; }
    setTimeout(function () {
      fetch(window.location.href, {credentials: "same-origin"}).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      }).then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-renew-in]");
        if (!fresh) { throw new Error("no code"); }
        card.replaceWith(fresh);
        schedule(fresh);
      }).catch(function () { window.location.reload(); });
    }, seconds * 1000);
  }
  var card = document.querySelector("[data-renew-in]");
  if (card) { schedule(card); }
})();
