package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strings"
)

// A line chart drawn by hand with the standard library (image, image/png):
// axes, ticks, grid, lines, point markers and a legend, with a small 5x7
// bitmap font for the labels. go.mod has no plotting library, and CI needs
// nothing beyond Go to draw docs/growth.png.

type series struct {
	Name   string
	Color  color.RGBA
	Points [][2]float64 // x, y
	Dashed bool
}

type chart struct {
	Title, XLabel, YLabel string
	Series                []series
	Notes                 []string // lines under the title
}

const (
	chartW, chartH                     = 960, 600
	marginL, marginR, marginT, marginB = 90, 30, 80, 70
	fontScale                          = 2
)

var (
	black = color.RGBA{0x20, 0x20, 0x20, 0xff}
	grid  = color.RGBA{0xe4, 0xe4, 0xe4, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

func (c chart) png(w io.Writer) error {
	img := image.NewRGBA(image.Rect(0, 0, chartW, chartH))
	fill(img, img.Bounds(), white)
	var xmax, ymax float64
	for _, s := range c.Series {
		for _, p := range s.Points {
			xmax, ymax = math.Max(xmax, p[0]), math.Max(ymax, p[1])
		}
	}
	xstep, ystep := niceStep(xmax), niceStep(ymax)
	xmax, ymax = math.Ceil(xmax/xstep)*xstep, math.Ceil(ymax/ystep)*ystep
	if xmax == 0 {
		xmax = 1
	}
	if ymax == 0 {
		ymax = 1
	}
	x0, y0, x1, y1 := marginL, chartH-marginB, chartW-marginR, marginT
	px := func(x float64) int { return x0 + int(math.Round(x/xmax*float64(x1-x0))) }
	py := func(y float64) int { return y0 - int(math.Round(y/ymax*float64(y0-y1))) }

	// Grid and ticks.
	for x := 0.0; x <= xmax+xstep/2; x += xstep {
		line(img, px(x), y0, px(x), y1, grid, 1, false)
		line(img, px(x), y0, px(x), y0+6, black, 1, false)
		label := trimFloat(x)
		text(img, px(x)-textWidth(label)/2, y0+12, label, black)
	}
	for y := 0.0; y <= ymax+ystep/2; y += ystep {
		line(img, x0, py(y), x1, py(y), grid, 1, false)
		line(img, x0-6, py(y), x0, py(y), black, 1, false)
		label := trimFloat(y)
		text(img, x0-10-textWidth(label), py(y)-glyphH*fontScale/2, label, black)
	}
	line(img, x0, y0, x1, y0, black, 2, false)
	line(img, x0, y0, x0, y1, black, 2, false)
	text(img, (x0+x1-textWidth(c.XLabel))/2, y0+40, c.XLabel, black)
	text(img, 10, y1-26, c.YLabel, black)
	text(img, (chartW-textWidth(c.Title))/2, 10, c.Title, black)
	for i, n := range c.Notes {
		text(img, (chartW-textWidth(n))/2, 32+i*20, n, color.RGBA{0x60, 0x60, 0x60, 0xff})
	}

	for _, s := range c.Series {
		for i := 1; i < len(s.Points); i++ {
			a, b := s.Points[i-1], s.Points[i]
			line(img, px(a[0]), py(a[1]), px(b[0]), py(b[1]), s.Color, 3, s.Dashed)
		}
		for _, p := range s.Points {
			fill(img, image.Rect(px(p[0])-5, py(p[1])-5, px(p[0])+6, py(p[1])+6), s.Color)
		}
	}
	// Legend, top left inside the plot.
	lx, ly := x0+20, y1+10
	for _, s := range c.Series {
		line(img, lx, ly+7, lx+30, ly+7, s.Color, 3, s.Dashed)
		fill(img, image.Rect(lx+11, ly+3, lx+20, ly+12), s.Color)
		text(img, lx+40, ly, s.Name, black)
		ly += 22
	}
	return png.Encode(w, img)
}

// niceStep is a tick step of 1, 2 or 5 times a power of ten giving 4 to 10
// ticks up to max.
func niceStep(max float64) float64 {
	if max <= 0 {
		return 1
	}
	raw := max / 6
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// line draws from (xa, ya) to (xb, yb), width pixels wide, with Bresenham's
// algorithm; dashed lines skip every other 8 pixels.
func line(img *image.RGBA, xa, ya, xb, yb int, c color.RGBA, width int, dashed bool) {
	dx, dy := abs(xb-xa), -abs(yb-ya)
	sx, sy := 1, 1
	if xa > xb {
		sx = -1
	}
	if ya > yb {
		sy = -1
	}
	e := dx + dy
	for n := 0; ; n++ {
		if !dashed || (n/8)%2 == 0 {
			fill(img, image.Rect(xa-width/2, ya-width/2, xa-width/2+width, ya-width/2+width), c)
		}
		if xa == xb && ya == yb {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			xa += sx
		} else {
			e += dx
			ya += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

const glyphW, glyphH = 5, 7

func textWidth(s string) int { return len([]rune(s)) * (glyphW + 1) * fontScale }

// text draws s with its top left corner at (x, y). Capitals are drawn as
// small letters; characters the font lacks as blanks.
func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for _, r := range strings.ToLower(s) {
		rows := font[r]
		for row := 0; row < glyphH; row++ {
			for col := 0; col < glyphW; col++ {
				if rows[row]&(1<<(glyphW-1-col)) != 0 {
					fill(img, image.Rect(x+col*fontScale, y+row*fontScale, x+(col+1)*fontScale, y+(row+1)*fontScale), c)
				}
			}
		}
		x += (glyphW + 1) * fontScale
	}
}

// font is a classic 5x7 bitmap font: seven rows per glyph, the high bit of
// the five on the left.
var font = map[rune][glyphH]uint8{
	'0': {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E},
	'1': {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
	'2': {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},
	'3': {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
	'4': {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02},
	'5': {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
	'6': {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E},
	'7': {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
	'8': {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},
	'9': {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
	'a': {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F},
	'b': {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E},
	'c': {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E},
	'd': {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F},
	'e': {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E},
	'f': {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08},
	'g': {0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E},
	'h': {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11},
	'i': {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E},
	'j': {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C},
	'k': {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12},
	'l': {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E},
	'm': {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11},
	'n': {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11},
	'o': {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E},
	'p': {0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10},
	'q': {0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01},
	'r': {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10},
	's': {0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E},
	't': {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06},
	'u': {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D},
	'v': {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04},
	'w': {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A},
	'x': {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11},
	'y': {0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E},
	'z': {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F},
	'.': {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C},
	',': {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08},
	'(': {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02},
	')': {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},
	'/': {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00},
	'-': {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00},
	'+': {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00},
	':': {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},
	';': {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x04, 0x08},
	'=': {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00},
	'%': {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03},
	'#': {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A},
	'<': {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02},
	'>': {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08},
}
