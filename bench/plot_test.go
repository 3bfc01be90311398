package main

import (
	"bytes"
	"image/color"
	"image/png"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The growth plot is a readable PNG: it decodes, has the chart's size, and
// the series are drawn in their colours (not a blank canvas).
func TestChartDrawsSeries(t *testing.T) {
	red := color.RGBA{0xd0, 0x30, 0x30, 0xff}
	c := chart{Title: "Commit time", XLabel: "assets", YLabel: "seconds", Notes: []string{"note 1"},
		Series: []series{
			{Name: "commit", Color: red, Points: [][2]float64{{100, 0.5}, {1000, 4}, {10000, 40}}},
			{Name: "best case", Color: color.RGBA{0x30, 0x60, 0xd0, 0xff}, Points: [][2]float64{{100, 0.3}, {10000, 35}}, Dashed: true},
		}}
	var buf bytes.Buffer
	require.NoError(t, c.png(&buf))
	img, err := png.Decode(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, chartW, img.Bounds().Dx())
	assert.Equal(t, chartH, img.Bounds().Dy())
	reds := 0
	for y := 0; y < chartH; y++ {
		for x := 0; x < chartW; x++ {
			if r, g, b, _ := img.At(x, y).RGBA(); r>>8 == 0xd0 && g>>8 == 0x30 && b>>8 == 0x30 {
				reds++
			}
		}
	}
	assert.Greater(t, reds, 500, "the commit series is drawn")
	if p := os.Getenv("BENCH_PLOT_OUT"); p != "" {
		require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	}
}

func TestNiceStep(t *testing.T) {
	for max, want := range map[float64]float64{10000: 2000, 42: 10, 7.5: 2, 0.9: 0.2} {
		assert.Equal(t, want, niceStep(max), "max %v", max)
	}
}
