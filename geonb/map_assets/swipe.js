// Swipe control of geonb.maps.add_side_by_side (a Jinja template: `this` is the branca element).
(function(){
  var map = {{ this._parent.get_name() }};
  var left = {{ this.left.get_name() }}, right = {{ this.right.get_name() }};
  var box = L.DomUtil.create('div', 'geonb-swipe', map.getContainer());
  box.style.cssText = 'position:absolute;top:0;bottom:0;left:0;right:0;z-index:650;pointer-events:none;';
  var line = L.DomUtil.create('div', 'geonb-swipe-line', box);
  line.style.cssText = 'position:absolute;top:0;bottom:0;width:3px;margin-left:-1px;background:#fff;' +
    'box-shadow:0 0 3px #000;';
  var range = L.DomUtil.create('input', 'geonb-swipe-range', box);
  range.type = 'range'; range.min = 0; range.max = 1; range.step = 'any'; range.value = {{ this.start }};
  range.title = 'drag to compare the two layers';
  range.style.cssText = 'position:absolute;left:0;width:100%;top:50%;margin:0;pointer-events:none;';
  var THUMB = 28;  // px, as in the CSS: only the round thumb takes the mouse, the map stays draggable
  var style = document.createElement('style');
  style.textContent = '.geonb-swipe-range::-webkit-slider-thumb{pointer-events:auto}' +
    '.geonb-swipe-range::-moz-range-thumb{pointer-events:auto}';
  box.appendChild(style);
  L.DomEvent.disableClickPropagation(range);
  L.DomEvent.on(range, 'mousedown touchstart pointerdown', function(e){ L.DomEvent.stopPropagation(e);
    map.dragging.disable(); });
  L.DomEvent.on(document, 'mouseup touchend pointerup', function(){ map.dragging.enable(); });
  function clip(layer, side, x) {
    if (!layer) return;
    if (layer.eachLayer && !layer.getElement) { layer.eachLayer(function(l){ clip(l, side, x); }); return; }
    var el = layer.getElement ? layer.getElement() : (layer.getContainer ? layer.getContainer() : null);
    if (!el) return;
    var xl = map.containerPointToLayerPoint([x, 0]).x;
    if (layer.getElement) {  // an image overlay: clip in its own box
      var pos = el._leaflet_pos || L.point(0, 0), w = parseFloat(el.style.width) || el.offsetWidth;
      var cx = Math.max(0, Math.min(w, xl - pos.x));
      el.style.clipPath = side === 'left' ? 'inset(0 ' + (w - cx) + 'px 0 0)' : 'inset(0 0 0 ' + cx + 'px)';
    } else {  // a tile layer: clip its container in layer coordinates (as leaflet-side-by-side does)
      var nw = map.containerPointToLayerPoint([0, 0]), se = map.containerPointToLayerPoint(map.getSize());
      el.style.clip = side === 'left' ? 'rect(' + [nw.y, xl, se.y, nw.x].join('px,') + 'px)'
                                      : 'rect(' + [nw.y, se.x, se.y, xl].join('px,') + 'px)';
    }
  }
  function update() {
    var x = THUMB / 2 + parseFloat(range.value) * (map.getSize().x - THUMB);  // under the thumb's centre
    line.style.left = x + 'px';
    clip(left, 'left', x); clip(right, 'right', x);
  }
  map.on('move moveend zoomend viewreset resize layeradd overlayadd', update);
  L.DomEvent.on(range, 'input change', update);
  map.whenReady(update);
  setTimeout(update, 0);
  map.geonbSwipe = {range: range, update: update};
})();
