/* 随手拍 report form, progressive enhancement only: the page works without this file.
   - "定位到我这里": fills 纬度/经度 from navigator.geolocation (shown only if available).
   - Site plan: tapping a building selects it in the 楼栋 select without reloading
     (without JS the link reloads the page with ?building=<pk>).
   - Photos: each chosen image is shrunk to at most 1600 px in a canvas and put back into
     the file input through DataTransfer, when the browser supports both; otherwise the
     original file is uploaded and the server shrinks it. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var MAX_SIDE = 1600;

  // ---- 定位到我这里
  var locate = form.querySelector("[data-locate]");
  var status = form.querySelector("[data-locate-status]");
  if (locate && "geolocation" in navigator) {
    locate.parentNode.hidden = false;
    locate.addEventListener("click", function () {
      status.textContent = "…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.lat.value = pos.coords.latitude.toFixed(6);
        form.elements.lng.value = pos.coords.longitude.toFixed(6);
        var details = form.querySelector("details.manual-coords");
        if (details) { details.open = true; }
        status.textContent = "✓";
      }, function () {
        status.textContent = "×";
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  // ---- site plan
  var select = form.elements.building;
  var links = form.querySelectorAll(".plan-building");
  function mark(pk) {
    for (var i = 0; i < links.length; i++) {
      var on = links[i].getAttribute("data-building") === pk;
      links[i].classList.toggle("is-selected", on);
      if (on) { links[i].setAttribute("aria-current", "true"); } else { links[i].removeAttribute("aria-current"); }
    }
  }
  for (var i = 0; i < links.length; i++) {
    links[i].addEventListener("click", function (ev) {
      if (!select) { return; }
      ev.preventDefault();
      select.value = this.getAttribute("data-building");
      mark(select.value);
    });
  }
  if (select) { select.addEventListener("change", function () { mark(select.value); }); }

  // ---- photos: shrink in the browser before upload
  var input = form.elements.photos;
  var canShrink = input && window.DataTransfer && window.File && window.HTMLCanvasElement &&
    HTMLCanvasElement.prototype.toBlob && window.createImageBitmap;
  if (!canShrink) { return; }
  var busy = 0;
  var submit = form.querySelector("button[type=submit]");
  function shrink(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type)) { return Promise.resolve(file); }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bmp) {
      var side = Math.max(bmp.width, bmp.height);
      if (side <= MAX_SIDE) { return file; }
      var k = MAX_SIDE / side;
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bmp.width * k);
      canvas.height = Math.round(bmp.height * k);
      canvas.getContext("2d").drawImage(bmp, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob) { resolve(file); return; }
          var name = file.name.replace(/\.[^.]+$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: Date.now() }));
        }, "image/jpeg", 0.85);
      });
    }).catch(function () { return file; });
  }
  input.addEventListener("change", function () {
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length) { return; }
    busy++;
    if (submit) { submit.disabled = true; }
    Promise.all(files.map(shrink)).then(function (out) {
      var dt = new DataTransfer();
      out.forEach(function (f) { dt.items.add(f); });
      input.files = dt.files;
    }).finally(function () {
      busy--;
      if (!busy && submit) { submit.disabled = false; }
    });
  });
})();
