// 共治 portal: small progressive enhancements only; every page works without this file.
document.addEventListener("submit", function (event) {
  var form = event.target;
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
